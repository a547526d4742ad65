#include "net/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <uv.h>

#include <algorithm>
#include <cstring>

namespace memberlist::net {

using wire::Bytes;
using wire::Errc;
using wire::make_error;

namespace {
const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped(const uint8_t *b16) { return std::memcmp(b16, kMappedPrefix, 12) == 0; }

bool all_zero(wire::ByteView b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

bool v4_loopback(wire::ByteView b) { return b.size() == 4 && b[0] == 127; }
bool v4_link_local(wire::ByteView b) { return b.size() == 4 && b[0] == 169 && b[1] == 254; }
bool v4_private(wire::ByteView b) {
  if (b.size() != 4) return false;
  return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
         (b[0] == 100 && (b[1] & 0xc0) == 64);  // RFC 6598 shared address space
}
bool v6_loopback(wire::ByteView b) {
  return b.size() == 16 && all_zero(b.first(15)) && b[15] == 1;
}
bool v6_link_local(wire::ByteView b) { return b.size() == 16 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80; }
}  // namespace

std::optional<Bytes> parse_ip(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string str(s);
  uint8_t buf[16];
  if (inet_pton(AF_INET, str.c_str(), buf) == 1) return Bytes(buf, buf + 4);
  if (inet_pton(AF_INET6, str.c_str(), buf) == 1) {
    if (is_mapped(buf)) return Bytes(buf + 12, buf + 16);
    return Bytes(buf, buf + 16);
  }
  return std::nullopt;
}

std::string ip_to_string(wire::ByteView ip) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ip.size() == 4) {
    inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
  } else if (ip.size() == 16) {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
  } else {
    return "<bad address>";
  }
  return buf;
}

wire::Result<protocol::Endpoint> parse_endpoint(std::string_view s, uint16_t default_port) {
  protocol::Endpoint e;
  const std::string orig(s);
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    e.name = std::string(s.substr(0, slash));
    s = s.substr(slash + 1);
  }
  std::string_view host = s;
  std::optional<std::string_view> port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return make_error(Errc::Malformed, "address '" + orig + "': missing ']'");
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error(Errc::Malformed, "address '" + orig + "': junk after ']'");
      port = rest.substr(1);
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    const auto colon = s.find(':');
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  auto ip = parse_ip(host);
  if (!ip) return make_error(Errc::Malformed, "address '" + orig + "': not an IP literal");
  e.ip = std::move(*ip);
  e.port = default_port;
  if (port) {
    if (port->empty() || port->size() > 5 || port->find_first_not_of("0123456789") != std::string_view::npos) {
      return make_error(Errc::Malformed, "address '" + orig + "': bad port");
    }
    const unsigned long p = std::stoul(std::string(*port));
    if (p > 65535) return make_error(Errc::Malformed, "address '" + orig + "': port out of range");
    e.port = static_cast<uint16_t>(p);
  }
  return e;
}

wire::Result<std::vector<protocol::Endpoint>> resolve_endpoints(std::string_view s, uint16_t default_port) {
  auto literal = parse_endpoint(s, default_port);
  if (literal) return std::vector<protocol::Endpoint>{std::move(literal.value())};
  const std::string orig(s);
  std::string name;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    name = std::string(s.substr(0, slash));
    s = s.substr(slash + 1);
  }
  // Only "host" or "host:port" can be a name; anything else was a malformed literal.
  const auto colons = std::count(s.begin(), s.end(), ':');
  if (s.empty() || s.front() == '[' || colons > 1) return literal.error();
  std::string host(s.substr(0, s.find(':')));
  uint16_t port = default_port;
  if (colons == 1) {
    const std::string_view ps = s.substr(s.find(':') + 1);
    if (ps.empty() || ps.size() > 5 || ps.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(ps)) > 65535) {
      return make_error(Errc::Malformed, "address '" + orig + "': bad port");
    }
    port = static_cast<uint16_t>(std::stoul(std::string(ps)));
  }
  if (host.empty() || host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
                          std::string::npos) {
    return make_error(Errc::Malformed, "address '" + orig + "': neither an IP literal nor a host name");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) {
    return make_error(Errc::Malformed, "address '" + orig + "': lookup of '" + host + "' failed: " + gai_strerror(rc));
  }
  std::vector<protocol::Endpoint> out;
  for (const addrinfo *ai = res; ai != nullptr; ai = ai->ai_next) {
    auto e = from_sockaddr(ai->ai_addr);
    if (!e) continue;
    e->port = port;
    e->name = name;
    if (std::find(out.begin(), out.end(), *e) == out.end()) out.push_back(std::move(*e));
  }
  freeaddrinfo(res);
  if (out.empty()) return make_error(Errc::Malformed, "address '" + orig + "': '" + host + "' has no IP address");
  return out;
}

bool to_sockaddr(const protocol::Endpoint &e, bool v6_socket, sockaddr_storage *out) {
  std::memset(out, 0, sizeof *out);
  if (e.ip.size() == 4 && !v6_socket) {
    auto *sa = reinterpret_cast<sockaddr_in *>(out);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(e.port);
    std::memcpy(&sa->sin_addr, e.ip.data(), 4);
    return true;
  }
  if (e.ip.size() == 4 || e.ip.size() == 16) {
    auto *sa = reinterpret_cast<sockaddr_in6 *>(out);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(e.port);
    if (e.ip.size() == 4) {
      std::memcpy(&sa->sin6_addr, kMappedPrefix, 12);
      std::memcpy(reinterpret_cast<uint8_t *>(&sa->sin6_addr) + 12, e.ip.data(), 4);
    } else {
      std::memcpy(&sa->sin6_addr, e.ip.data(), 16);
    }
    return true;
  }
  return false;
}

std::optional<protocol::Endpoint> from_sockaddr(const sockaddr *sa) {
  if (!sa) return std::nullopt;
  protocol::Endpoint e;
  if (sa->sa_family == AF_INET) {
    const auto *in = reinterpret_cast<const sockaddr_in *>(sa);
    const auto *b = reinterpret_cast<const uint8_t *>(&in->sin_addr);
    e.ip.assign(b, b + 4);
    e.port = ntohs(in->sin_port);
    return e;
  }
  if (sa->sa_family == AF_INET6) {
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    const auto *b = reinterpret_cast<const uint8_t *>(&in6->sin6_addr);
    if (is_mapped(b)) {
      e.ip.assign(b + 12, b + 16);
    } else {
      e.ip.assign(b, b + 16);
    }
    e.port = ntohs(in6->sin6_port);
    return e;
  }
  return std::nullopt;
}

std::vector<Bytes> interface_addresses() {
  std::vector<Bytes> out;
  uv_interface_address_t *ifs = nullptr;
  int n = 0;
  if (uv_interface_addresses(&ifs, &n) != 0) return out;
  for (int i = 0; i < n; ++i) {
    if (auto e = from_sockaddr(reinterpret_cast<const sockaddr *>(&ifs[i].address.address4))) {
      out.push_back(std::move(e->ip));
    }
  }
  uv_free_interface_addresses(ifs, n);
  return out;
}

namespace {
std::optional<Bytes> pick_v4(const std::vector<Bytes> &ifs) {
  for (const auto &a : ifs) {
    if (v4_private(a)) return a;
  }
  for (const auto &a : ifs) {
    if (a.size() == 4 && !v4_loopback(a) && !v4_link_local(a) && !all_zero(a)) return a;
  }
  return std::nullopt;
}
}  // namespace

wire::Result<protocol::Endpoint> choose_advertise(const protocol::Config &config, wire::ByteView first_bind_ip,
                                                  uint16_t bound_port, const std::vector<Bytes> &interfaces) {
  protocol::Endpoint e;
  e.name = config.name;
  if (!config.advertise_addr.empty()) {
    auto ip = parse_ip(config.advertise_addr);
    if (!ip) {
      return make_error(Errc::Malformed, "advertise_addr '" + config.advertise_addr + "' is not an IP address");
    }
    e.ip = std::move(*ip);
    e.port = (config.bind_port == 0 || config.advertise_port == 0) ? bound_port : config.advertise_port;
    return e;
  }
  e.port = bound_port;
  if (first_bind_ip.size() == 4 && all_zero(first_bind_ip)) {
    e.ip = pick_v4(interfaces).value_or(Bytes{127, 0, 0, 1});
  } else if (first_bind_ip.size() == 16 && all_zero(first_bind_ip)) {
    for (const auto &a : interfaces) {
      if (a.size() == 16 && !v6_loopback(a) && !v6_link_local(a) && !all_zero(a)) {
        e.ip = a;
        return e;
      }
    }
    if (auto v4 = pick_v4(interfaces)) {
      e.ip = *v4;
    } else {
      Bytes lo(16, 0);
      lo[15] = 1;
      e.ip = lo;
    }
  } else if (first_bind_ip.size() == 4 || first_bind_ip.size() == 16) {
    e.ip.assign(first_bind_ip.begin(), first_bind_ip.end());
  } else {
    return make_error(Errc::Malformed, "bind address is not IPv4 or IPv6");
  }
  return e;
}

}  // namespace memberlist::net
