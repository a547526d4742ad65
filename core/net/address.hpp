// Addresses: IP literals, socket addresses, and the rule that picks the address a node
// advertises to its peers.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/config.hpp"
#include "protocol/node.hpp"
#include "wire/bytes.hpp"
#include "wire/error.hpp"

namespace memberlist::net {

// An IPv4 or IPv6 literal ("10.0.0.1", "::1", "[::1]") as 4 or 16 bytes. An IPv4-mapped IPv6
// address ("::ffff:10.0.0.1") becomes its 4 IPv4 bytes (Go's To4()). No host names.
std::optional<wire::Bytes> parse_ip(std::string_view s);
std::string ip_to_string(wire::ByteView ip);  // "10.0.0.1", "::1"

// memberlist's join syntax "[name/]ip[:port]" (IPv6 with a port in brackets: "[::1]:7946"),
// IP literals only (resolving host names is the caller's business). A missing port is
// default_port.
wire::Result<protocol::Endpoint> parse_endpoint(std::string_view s, uint16_t default_port);

// The same syntax with host names as well ("localhost:7946", "db/node1.example:7946"): an IP
// literal is taken as it is; a name is resolved (getaddrinfo: IPv4 and IPv6, duplicates dropped)
// into one endpoint per address, each carrying the given node name. BLOCKS for the lookup: call
// it off the loop thread.
wire::Result<std::vector<protocol::Endpoint>> resolve_endpoints(std::string_view s, uint16_t default_port);

// Socket addresses. An IPv4 endpoint given to an IPv6 socket (v6_socket) becomes ::ffff:a.b.c.d.
bool to_sockaddr(const protocol::Endpoint &e, bool v6_socket, sockaddr_storage *out);
std::optional<protocol::Endpoint> from_sockaddr(const sockaddr *sa);  // mapped IPv6 -> IPv4

// The addresses of this host's interfaces (libuv's uv_interface_addresses), loopback included.
std::vector<wire::Bytes> interface_addresses();

// The advertise rule (memberlist's FinalAdvertiseAddr plus create()'s port handling):
//  * config.advertise_addr set: that IP (a literal; "" is unset). Its port is
//    config.advertise_port, except that the bound port is used when config.bind_port was 0
//    (memberlist overwrites AdvertisePort with the dynamic port) or advertise_port is 0.
//  * otherwise the IP of the first bind address, with the bound port, where an unspecified bind
//    address is replaced:
//      0.0.0.0 -> the first private (RFC 1918 / RFC 6598) IPv4 of `interfaces`, else the first
//                 other non-loopback, non-link-local IPv4, else 127.0.0.1;
//      ::      -> the first global (non-loopback, non-link-local) IPv6, else an IPv4 chosen as
//                 for 0.0.0.0 when one exists that is not loopback, else ::1.
// bound_port is the port the transport really bound (the kernel's choice when bind_port was 0).
wire::Result<protocol::Endpoint> choose_advertise(const protocol::Config &config, wire::ByteView first_bind_ip,
                                                  uint16_t bound_port,
                                                  const std::vector<wire::Bytes> &interfaces);

}  // namespace memberlist::net
