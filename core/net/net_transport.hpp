// NetTransport: memberlist's UDP + TCP transport on libuv (WIRE.md §1, §5.1, §5.7).
//
// * For each bind address one UDP socket and one TCP listener, all on the same port number.
//   bind_port 0: the first TCP listener takes a port from the kernel and everything else binds
//   that port (retried up to 10 times if the UDP bind loses a race, as memberlist does).
// * TCP listeners set SO_REUSEADDR (libuv does for every TCP bind), so a node restarted on the
//   same address binds at once despite old connections in TIME_WAIT. UDP sockets do not, as in
//   Go: SO_REUSEADDR on a UDP socket would let two live nodes share a port without an error.
// * UDP: a 2 MiB receive buffer is requested, halved until the kernel accepts; datagrams are read
//   into a 65,536-byte buffer (larger ones arrive truncated and are counted); every datagram is
//   sent from the listening socket of the destination's family (so its source port is the bound
//   port), with uv_udp_try_send and a queued uv_udp_send when the socket is busy. At most
//   kMaxQueuedSendBytes wait in that queue; beyond it a datagram is dropped and counted, as a
//   full socket buffer drops it anyway (memberlist's goroutine blocks instead; our loop must not).
//   The drops are logged at most once a second, with their count.
// * TCP out: one connection per OpenStream, with the OpenStream's deadline covering connect,
//   write and reply; TCP_NODELAY. TCP in: read incrementally into a wire::StreamDecoder with the
//   node's stream settings, bounded by its limits and by tcp_timeout (the whole exchange). Only
//   streams that declare a push/pull count against max_inbound_streams (memberlist's
//   maxPushPullRequests; one more is refused: "Too many pending push/pull requests"). The rest
//   are pending (transport.hpp: kMaxPendingStreams, oldest closed first; kFirstByteTimeout).
//   Every stream read, in or out, shares one memory budget (Limits::max_stream_memory).
// * TCP-only mode (options.tcp_only; docs/transport-tcp.md): Grafana dskit's TCPTransport framing
//   on the TCP listeners, and no UDP socket at all. Every connection starts with one byte, 1 (a
//   packet) or 2 (a stream). A packet is [1][u8 n][the sender's advertised "ip:port", n bytes]
//   [packet][MD5 of the packet, 16 bytes], one connection each, closed by the sender; it is read
//   to EOF (bounded by max_tcp_packet and the shared stream memory), its MD5 checked (a mismatch
//   is dropped and counted: dskit only logs it) and handed over as from the claimed address. A
//   stream is [2] and then memberlist's stream bytes. Packets are sent asynchronously, each on a
//   connection of its own with tcp_timeout for connect and write; at most kMaxPacketConns are in
//   flight, beyond that a packet is dropped and counted (dskit drops after 250 ms without one of
//   its 3 writers). A failed send is logged (debug for a refused connection, as dskit) and
//   counted. Inbound packet connections are pending streams (kMaxPendingStreams,
//   kFirstByteTimeout, tcp_timeout for the whole read).
// * close() closes every socket before it returns (libuv closes the descriptor inside
//   uv_close; only the memory is freed later, by the close callbacks).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/runtime.hpp"
#include "net/transport.hpp"

namespace memberlist::net {

struct NetTransportOptions {
  std::vector<std::string> bind_addrs{"0.0.0.0"};  // IP literals; "" means 0.0.0.0
  uint16_t bind_port = 7946;                        // 0: the kernel picks one
  protocol::Duration tcp_timeout = std::chrono::seconds(10);
  int max_inbound_streams = 128;
  int udp_recv_buffer = 2 * 1024 * 1024;
  bool tcp_only = false;                    // dskit's TCP-only framing, no UDP socket
  size_t max_tcp_packet = 16u << 20;        // tcp_only: body of one inbound packet
};

class NetTransport final : public Transport {
 public:
  // Binds everything (loop thread only). Fails with the libuv error naming the address.
  static wire::Result<std::unique_ptr<NetTransport>> create(Runtime &rt, NetTransportOptions options);
  ~NetTransport() override;  // closes if still open (loop thread only then)

  uint16_t port() const { return port_; }
  bool tcp_only() const { return opts_.tcp_only; }
  // tcp_only: the address packets name as their sender (the node's advertised one). Set before
  // the first send_packet.
  void set_advertise(const Endpoint &e);
  const std::vector<Bytes> &bind_ips() const { return bind_ips_; }
  // The receive buffer the kernel granted the first UDP socket (as getsockopt reports it).
  int udp_recv_buffer() const { return udp_recv_buffer_; }

  wire::Status start(Sink *sink) override;
  void send_packet(const Endpoint &to, ByteView data) override;
  void open_stream(protocol::OpenStream s) override;
  void reply_stream(protocol::ReplyStream r) override;
  void close() override;
  TransportStats stats() const override {
    TransportStats s = stats_;
    s.streams_reading = static_cast<uint64_t>(reading_);
    s.streams_pending = pending_.size();
    s.stream_memory = memory_->used;
    return s;
  }

  // Datagrams copied into the send queue while the socket buffer is full: enough for every
  // burst a node sends (a probe round, a gossip round: a few datagrams of udp_buffer_size),
  // small next to what a reflection flood would queue (257,040 acks for one crafted packet).
  static constexpr size_t kMaxQueuedSendBytes = 1u << 20;
  // tcp_only: outbound packet connections in flight at once. A probe round and a gossip round
  // open a handful; a peer that black-holes SYNs keeps each for tcp_timeout. Bounds descriptors.
  static constexpr size_t kMaxPacketConns = 128;

 private:
  struct Udp;
  struct Listener;
  struct Conn;
  struct UdpSend;

  NetTransport(Runtime &rt, NetTransportOptions options);
  wire::Status bind_all(int *uv_status);
  void drop(Conn *c);
  void finish_outbound(Conn *c, wire::Result<std::optional<wire::StreamMessage>> outcome);
  void deliver_inbound(Conn *c);
  void set_deadline(Conn *c, Time t);
  void rearm();
  void on_deadline();
  // Count the failure and tell the sink (Sink::on_transport_error).
  void send_failed(const Endpoint &to, const char *why);
  void send_dropped(const Endpoint &to);
  // Counts one dropped send toward the next log line and logs at most once a second:
  // "<what> to=<to>: <why>, <n> <unit> dropped" (n: the drops since the last line).
  void report_drop(const Endpoint &to, std::string_view what, const std::string &why, std::string_view unit);
  wire::StreamIn stream_in(bool request);  // the node's, with this transport's memory budget
  // After each read of a pending stream: once it is known to be a push/pull it leaves the
  // pending set and counts against max_inbound_streams (anything else stays pending until it is
  // delivered). False: the push/pull was one too many, refused and dropped.
  bool identify(Conn *c);
  void accept_failed(const char *why);
  // tcp_only: a chunk of an inbound connection whose kind is not known yet or is a packet.
  // False: the connection was dropped or is a packet (the caller stops); true: it is a stream
  // and `data` (the first byte taken off) goes to its reader.
  bool read_framed(Conn *c, ByteView &data);
  void finish_packet(Conn *c);
  void packet_in_failed(Conn *c, uint64_t &counter, const std::string &why);
  void send_tcp_packet(const Endpoint &to, ByteView data);
  void packet_send_failed(Conn *c, int uv_status, const char *what);
  static void on_packet_written(uv_write_t *req, int status);

  static void on_connection(uv_stream_t *server, int status);
  static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
  static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const sockaddr *addr, unsigned flags);
  static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
  static void on_connect(uv_connect_t *req, int status);
  static void on_request_written(uv_write_t *req, int status);
  static void on_reply_written(uv_write_t *req, int status);

  Runtime *rt_;
  NetTransportOptions opts_;
  std::vector<Bytes> bind_ips_;
  uint16_t port_ = 0;
  int udp_recv_buffer_ = 0;
  Sink *sink_ = nullptr;
  bool closed_ = false;
  std::vector<Udp *> udp_;
  std::vector<Listener *> listeners_;
  std::unordered_map<uint64_t, Conn *> inbound_;   // by our inbound stream id
  std::unordered_map<uint64_t, Conn *> outbound_;  // by the node's StreamId
  std::set<Conn *> packets_out_;                   // tcp_only: packet connections being sent
  std::string advertise_;                          // tcp_only: "ip:port" named in every packet
  uint64_t next_inbound_ = 1;
  int reading_ = 0;  // inbound push/pulls in the reading phase
  std::map<uint64_t, Conn *> pending_;  // inbound, type not known to be push/pull; oldest first
  std::shared_ptr<wire::StreamMemory> memory_ = std::make_shared<wire::StreamMemory>();
  size_t udp_queued_ = 0;  // bytes in uv_udp_send requests
  uint64_t drops_unlogged_ = 0;
  Time last_drop_log_{};
  std::set<std::pair<Time, Conn *>> deadlines_;
  Timer deadline_timer_;
  TransportStats stats_;
};

}  // namespace memberlist::net
