// core/net: the TCP-only transport (Config::tcp_only, Grafana dskit's TCPTransport framing;
// docs/transport-tcp.md). A cluster of such nodes joins, gossips, carries user messages both
// ways, detects a stopped node and push/pulls; no UDP socket is opened; hostile connections
// (a wrong first byte, a truncated header, a bad MD5, an oversize body, silence) are closed and
// counted while the node keeps working. Every wait has a (scaled) deadline; the fixture shuts
// every node down.
#include <algorithm>

#include "net_test_util.hpp"

#include "net/net_transport.hpp"
#include "wire/codec.hpp"
#include "wire/crypto.hpp"
#include "wire/stream.hpp"

using namespace nettest;

namespace {

struct Lines : protocol::Logger {
  void log(protocol::LogLevel level, const std::string &msg) override {
    std::lock_guard<std::mutex> lk(mu);
    lines.emplace_back(level, msg);
  }
  bool has(const std::string &part, std::optional<protocol::LogLevel> level = std::nullopt) {
    std::lock_guard<std::mutex> lk(mu);
    return std::any_of(lines.begin(), lines.end(), [&](const auto &l) {
      return l.second.find(part) != std::string::npos && (!level || l.first == *level);
    });
  }
  std::string dump() {
    std::lock_guard<std::mutex> lk(mu);
    std::string out;
    for (const auto &l : lines) out += std::to_string(static_cast<int>(l.first)) + " " + l.second + "\n";
    return out;
  }
  std::mutex mu;
  std::vector<std::pair<protocol::LogLevel, std::string>> lines;
};

protocol::Config tcp_config(const std::string &name, const std::string &ip) {
  auto c = fast_config(name, ip);
  c.tcp_only = true;
  return c;
}

class TcpOnly : public RuntimeTest {
 protected:
  TestNode &add(protocol::Config cfg) {
    auto n = std::make_unique<TestNode>();
    net::HostOptions o;
    o.config = std::move(cfg);
    o.delegates = n->rec->delegates();
    o.keep_alive = n->rec;
    o.delegates.logger = &lines;
    o.runtime = rt;
    auto h = net::NodeHost::create(std::move(o));
    EXPECT_TRUE(h.ok()) << h.error().to_string();
    if (h) n->host = std::move(h.value());
    nodes.push_back(std::move(n));
    return *nodes.back();
  }
  std::vector<TestNode *> all() {
    std::vector<TestNode *> v;
    for (auto &n : nodes) v.push_back(n.get());
    return v;
  }
  net::TransportStats stats(TestNode &n) {
    auto st = n.host->transport_stats();
    EXPECT_TRUE(st.ok());
    return st.ok() ? *st : net::TransportStats{};
  }
  std::string describe(TestNode &n) {
    auto st = stats(n);
    auto m = n.host->metrics();
    return n.host->name() + ": sent " + std::to_string(st.tcp_packets_sent) + " received " +
           std::to_string(st.tcp_packets_received) + " send errors " + std::to_string(st.tcp_packet_send_errors) +
           " dropped " + std::to_string(st.tcp_packet_send_dropped) + " timeouts " + std::to_string(st.stream_timeouts) +
           " evicted " + std::to_string(st.streams_evicted) + " node packets_dropped " +
           std::to_string(m.ok() ? m->packets_dropped : 0) + " handoff_dropped " +
           std::to_string(m.ok() ? m->handoff_dropped : 0) + " gossip " + std::to_string(m.ok() ? m->gossip_count : 0) +
           "\n";
  }
  Lines lines;  // outlives the nodes (TearDown clears them first)
};

// [1][len][claimed][body][md5(body)], as dskit's writeTo frames a packet.
wire::Bytes framed_packet(const std::string &claimed, const wire::Bytes &body, bool corrupt_digest = false) {
  wire::Bytes out;  // built byte by byte: gcc 12 reports a false -Warray-bounds on inserts here
  out.reserve(2 + claimed.size() + body.size() + 16);
  out.push_back(1);
  out.push_back(static_cast<uint8_t>(claimed.size()));
  for (char ch : claimed) out.push_back(static_cast<uint8_t>(ch));
  out.insert(out.end(), body.begin(), body.end());
  auto d = *wire::md5(body);
  if (corrupt_digest) d[0] ^= 0xff;
  out.insert(out.end(), d.begin(), d.end());
  return out;
}

// Connects, sends `data`, half-closes (the sender's close that ends a packet) and reads until the
// node closes. True when the node closed the connection (EOF or reset) without writing anything.
bool send_and_closed(const std::string &ip, uint16_t port, const wire::Bytes &data, bool half_close = true) {
  int fd = tcp_connect(ip, port, scaled(10000ms));
  if (fd < 0) return false;
  (void)send_all(fd, data);  // the node may cut an oversize body off mid-send
  if (half_close) ::shutdown(fd, SHUT_WR);
  bool eof = false;
  auto got = read_all(fd, &eof);
  ::close(fd);
  return eof && got.empty();
}

TEST_F(TcpOnly, ThreeNodesJoinGossipMessageAndDetectFailure) {
  auto &a = add(tcp_config("a", "127.0.0.150"));
  auto &b = add(tcp_config("b", "127.0.0.151"));
  auto &c = add(tcp_config("c", "127.0.0.152"));
  ASSERT_TRUE(a.host && b.host && c.host);
  // Joins are push/pulls over [2]-framed streams.
  for (auto *n : {&b, &c}) {
    auto j = n->host->join({a.host->advertise()});
    ASSERT_TRUE(j.ok()) << j.error().to_string();
    EXPECT_EQ(*j, 1);
  }
  // c learns of b only through gossip or a periodic push/pull with a: both run over TCP.
  ASSERT_TRUE(wait_until([&] { return converged(all(), 3); }, 8000ms));

  // Best-effort user messages are packets: one connection each. One larger than any UDP
  // datagram shows the 65,507-byte limit is gone in this mode.
  ASSERT_TRUE(a.host->send_best_effort(b.host->advertise(), wire::to_bytes("hello-b")).ok());
  std::string big(100000, 'x');
  ASSERT_TRUE(a.host->send_best_effort(c.host->advertise(), wire::to_bytes(big)).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("hello-b"); }, 5000ms));
  EXPECT_TRUE(wait_until([&] { return c.rec->got_msg(big); }, 5000ms));
  // Reliable user messages are streams.
  auto r = c.host->send_reliable(a.host->advertise(), wire::to_bytes("reliable-a"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(wait_until([&] { return a.rec->got_msg("reliable-a"); }, 5000ms));
  // A user broadcast travels by gossip (packets). Best effort: with 3 nodes it is sent
  // retransmit_mult x ceil(log10(4)) = 2 times, and a ping's piggyback may take both to the same
  // peer, so it is queued again (same name: replaced, not duplicated) until both have it.
  EXPECT_TRUE(wait_until(
      [&] {
        if (!a.rec->got_msg("gossip-from-b") || !c.rec->got_msg("gossip-from-b")) {
          (void)b.host->queue_broadcast(wire::to_bytes("gossip-from-b"), "test-broadcast");
          return false;
        }
        return true;
      },
      5000ms))
      << lines.dump() << describe(a) << describe(b) << describe(c);
  // A ping through the API (a packet there, a packet back to the advertised address).
  auto rtt = a.host->ping("b", b.host->advertise());
  ASSERT_TRUE(rtt.ok()) << rtt.error().to_string();

  auto sa = stats(a), sb = stats(b);
  EXPECT_GT(sa.tcp_packets_sent, 0u);
  EXPECT_GT(sa.tcp_packets_received, 0u);
  EXPECT_GT(sb.tcp_packets_received, 0u);
  EXPECT_EQ(sa.tcp_packets_bad_digest + sa.tcp_packets_malformed + sa.tcp_unknown_type, 0u);
  EXPECT_EQ(sa.udp_send_errors + sa.udp_send_dropped, 0u);

  // A stopped node (no leave): its port refuses connections, probes fail, it is declared dead.
  ASSERT_TRUE(c.host->shutdown().ok());
  EXPECT_TRUE(wait_until(
      [&] {
        return state_of(*a.host, "c") == wire::NodeState::Dead && state_of(*b.host, "c") == wire::NodeState::Dead;
      },
      15000ms));
  EXPECT_TRUE(wait_until([&] { return a.rec->left("c") == wire::NodeState::Dead; }, 5000ms));
  // Sending to it failed, counted; a refused connection is logged at debug level, as dskit does.
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packet_send_errors + stats(b).tcp_packet_send_errors > 0; }, 5000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("Failed to send packet over TCP", protocol::LogLevel::Debug); }, 3000ms));  // logs arrive off the loop
  EXPECT_EQ(members_of(*a.host), 2);
}

TEST_F(TcpOnly, PeriodicPushPullRunsOverTcp) {
  auto ca = tcp_config("a", "127.0.0.153");
  auto cb = tcp_config("b", "127.0.0.154");
  ca.push_pull_interval = cb.push_pull_interval = timer(200ms);
  auto &a = add(ca);
  auto &b = add(cb);
  ASSERT_TRUE(a.host && b.host);
  ASSERT_TRUE(b.host->join({a.host->advertise()}).ok());
  auto before_a = a.host->metrics();
  auto before_b = b.host->metrics();
  ASSERT_TRUE(before_a.ok() && before_b.ok());
  // Periodic push/pulls each way: started by one node, accepted as a [2]-framed stream by the
  // other (nothing else opens streams here: probes succeed over packets).
  EXPECT_TRUE(wait_until(
      [&] {
        auto m = a.host->metrics();
        auto n = b.host->metrics();
        return m.ok() && n.ok() && m->push_pull_count >= before_a->push_pull_count + 2 &&
               n->push_pull_count >= before_b->push_pull_count + 2 && m->tcp_accept >= before_a->tcp_accept + 2 &&
               n->tcp_accept >= before_b->tcp_accept + 2;
      },
      8000ms));
  EXPECT_FALSE(lines.has("Push/Pull with"));
}

TEST_F(TcpOnly, NoUdpSocketIsOpened) {
  auto &a = add(tcp_config("a", "127.0.0.155"));
  ASSERT_TRUE(a.host);
  const uint16_t port = a.host->port();
  // The TCP port is taken; the UDP port of the same number is free (no socket bound to it).
  EXPECT_EQ(try_bind(SOCK_STREAM, "127.0.0.155", port), EADDRINUSE);
  EXPECT_EQ(try_bind(SOCK_DGRAM, "127.0.0.155", port), 0);
  // Default mode, for contrast: UDP is bound as well.
  auto &u = add(fast_config("u", "127.0.0.156"));
  ASSERT_TRUE(u.host);
  EXPECT_EQ(try_bind(SOCK_DGRAM, "127.0.0.156", u.host->port()), EADDRINUSE);
}

TEST_F(TcpOnly, HostileConnectionsAreClosedAndCounted) {
  auto cfg = tcp_config("a", "127.0.0.157");
  cfg.limits.max_tcp_packet = 4096;
  auto &a = add(cfg);
  ASSERT_TRUE(a.host);
  const std::string ip = "127.0.0.157";
  const uint16_t port = a.host->port();
  const auto ping = wire::encode(wire::Ping{7, "a", {}, 0, "tester"});

  // A first byte that is neither 1 nor 2.
  EXPECT_TRUE(send_and_closed(ip, port, {7, 1, 2, 3}, false));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_unknown_type == 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("Unknown message type 7"); }, 3000ms));  // logs arrive off the loop

  // Truncated headers: the type byte alone; an address shorter than its length byte says.
  EXPECT_TRUE(send_and_closed(ip, port, {1}));
  EXPECT_TRUE(send_and_closed(ip, port, {1, 20, '1', '2', '7'}));
  // A body shorter than a digest.
  EXPECT_TRUE(send_and_closed(ip, port, {1, 0, 1, 2, 3}));
  // A sender address that is not ip:port.
  EXPECT_TRUE(send_and_closed(ip, port, framed_packet("not-an-address", ping)));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packets_malformed == 4; }, 3000ms));

  // A digest that does not match: dropped (dskit would only log it), counted, logged.
  EXPECT_TRUE(send_and_closed(ip, port, framed_packet("127.0.0.1:1", ping, true)));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packets_bad_digest == 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("packet digest mismatch"); }, 3000ms));  // logs arrive off the loop
  EXPECT_EQ(stats(a).tcp_packets_received, 0u);

  // A body over max_tcp_packet is cut off before it is all read.
  EXPECT_TRUE(send_and_closed(ip, port, framed_packet("127.0.0.1:1", wire::Bytes(64 * 1024, 0x55))));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packets_oversize == 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("over max_tcp_packet"); }, 3000ms));  // logs arrive off the loop

  // Packets being read are charged to the shared stream memory budget too.
  EXPECT_EQ(stats(a).streams_over_memory, 0u);

  // A connection that never sends anything is closed at the first-byte deadline, not leaked.
  const auto timeouts = stats(a).stream_timeouts;
  {
    int fd = tcp_connect(ip, port, scaled(10000ms));
    ASSERT_GE(fd, 0);
    bool eof = false;
    auto got = read_all(fd, &eof);
    ::close(fd);
    EXPECT_TRUE(eof);
    EXPECT_TRUE(got.empty());
  }
  EXPECT_EQ(stats(a).stream_timeouts, timeouts + 1);
  // ... and one that sent its type byte and a partial packet, then stalled: tcp_timeout.
  {
    int fd = tcp_connect(ip, port, scaled(10000ms));
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, {1, 11, '1', '2', '7'}));
    bool eof = false;
    auto got = read_all(fd, &eof);
    ::close(fd);
    EXPECT_TRUE(eof);
  }
  EXPECT_EQ(stats(a).stream_timeouts, timeouts + 2);
  EXPECT_TRUE(wait_until([&] { return stats(a).streams_pending == 0 && stats(a).stream_memory == 0; }, 3000ms));

  // The node still works: a well-formed packet is taken (its ack goes to the claimed address,
  // where nothing listens: a send error, counted), and a [2]-framed TCP ping is answered.
  EXPECT_TRUE(send_and_closed(ip, port, framed_packet("127.0.0.1:1", ping)));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packets_received == 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return stats(a).tcp_packet_send_errors >= 1; }, 3000ms));
  {
    int fd = tcp_connect(ip, port, scaled(5000ms));
    ASSERT_GE(fd, 0);
    auto framed = wire::encode_stream(wire::encode(wire::Ping{99, "a", {}, 0, "tester"}), wire::StreamOut{});
    ASSERT_TRUE(framed.ok());
    wire::Bytes req(framed->size() + 1);
    req[0] = 2;
    std::copy(framed->begin(), framed->end(), req.begin() + 1);
    ASSERT_TRUE(send_all(fd, req));
    bool eof = false;
    auto reply = read_all(fd, &eof);
    ::close(fd);
    wire::StreamIn in;
    in.read_label_header = false;
    auto msg = wire::StreamDecoder::decode(reply, in);
    ASSERT_TRUE(msg.ok()) << msg.error().to_string();
    ASSERT_TRUE(std::holds_alternative<wire::AckResp>(*msg));
    EXPECT_EQ(std::get<wire::AckResp>(*msg).seq_no, 99u);
  }
  // And a second node joins it.
  auto &b = add(tcp_config("b", "127.0.0.158"));
  ASSERT_TRUE(b.host);
  auto j = b.host->join({a.host->advertise()});
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(wait_until([&] { return converged({&a, &b}, 2); }, 5000ms));
}

// Under max_tcp_packet but over what the streams being read may hold together
// (max_stream_memory): cut off as well, counted as over memory.
TEST_F(TcpOnly, PacketsShareTheStreamMemoryBudget) {
  auto cfg = tcp_config("a", "127.0.0.159");
  cfg.limits.max_stream_memory = 64 * 1024;
  auto &a = add(cfg);
  ASSERT_TRUE(a.host);
  EXPECT_TRUE(send_and_closed("127.0.0.159", a.host->port(), framed_packet("127.0.0.1:1", wire::Bytes(256 * 1024, 1))));
  EXPECT_TRUE(wait_until([&] { return stats(a).streams_over_memory == 1 && stats(a).tcp_packets_oversize == 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return stats(a).stream_memory == 0; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("stream memory budget"); }, 3000ms));  // logs arrive off the loop
}

TEST(TcpOnlyConfig, UdpBufferSizeIsBoundedByMaxTcpPacket) {
  auto c = tcp_config("a", "127.0.0.1");
  c.udp_buffer_size = 10 << 20;  // dskit's setting
  EXPECT_TRUE(c.validate().ok());
  c.tcp_only = false;
  EXPECT_FALSE(c.validate().ok());
  c.tcp_only = true;
  c.limits.max_tcp_packet = 1 << 20;
  EXPECT_FALSE(c.validate().ok());
}

}  // namespace
