// core/net under hostile input (issue 12, part 2, items 1-3), each found against a live agent:
//  1. one datagram of nested compounds asked for 257,040 acks (a reflector that also starved the
//     loop until peers declared the node dead);
//  2. 128 idle TCP connections took every inbound stream slot (joins, TCP pings and push/pulls
//     through the node all failed);
//  3. a push/pull of 1 MiB of one-byte node states decoded to ~420 MB.
// Every wait has a (scaled) deadline; every node a test starts is shut down by the fixture.
#include <poll.h>

#include <algorithm>

#include "net_test_util.hpp"

#include "net/net_transport.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

using namespace nettest;
using memberlist::net::Runtime;

namespace {

// Log lines, readable from the test thread.
struct Lines : protocol::Logger {
  void log(protocol::LogLevel, const std::string &msg) override {
    std::lock_guard<std::mutex> lk(mu);
    lines.push_back(msg);
  }
  bool has(const std::string &part) {
    std::lock_guard<std::mutex> lk(mu);
    return std::any_of(lines.begin(), lines.end(), [&](const std::string &l) { return l.find(part) != l.npos; });
  }
  std::mutex mu;
  std::vector<std::string> lines;
};

class Hostile : public RuntimeTest {
 protected:
  // A node whose log lines go to `log` (when given).
  TestNode &add(protocol::Config cfg, Lines *log = nullptr) {
    auto n = std::make_unique<TestNode>();
    net::HostOptions o;
    o.config = std::move(cfg);
    o.delegates = n->rec->delegates();
    o.keep_alive = n->rec;
    o.delegates.logger = log;
    o.runtime = rt;
    auto h = net::NodeHost::create(std::move(o));
    EXPECT_TRUE(h.ok()) << h.error().to_string();
    if (h) n->host = std::move(h.value());
    nodes.push_back(std::move(n));
    return *nodes.back();
  }
  // Outlives every node (TearDown shuts them down first): a log line may arrive until then.
  Lines lines;
};

// ---- UDP from outside

int udp_socket(const std::string &ip) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  int big = 4 << 20;  // room for many acks, so a flood of them is seen rather than lost here
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return fd;
}

bool udp_send(int fd, const std::string &ip, uint16_t port, const wire::Bytes &data) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr *>(&sa), sizeof sa) ==
         static_cast<ssize_t>(data.size());
}

// Reads acks until the one for `marker` arrives (true) or the scaled deadline passes (false);
// *others counts the acks for other sequence numbers seen before it.
bool await_ack(int fd, uint32_t marker, std::chrono::milliseconds limit, size_t *others) {
  const auto end = Clock::now() + scaled(limit);
  uint8_t buf[65536];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left))) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) continue;
    auto contents = wire::decode_packet(wire::ByteView(buf, static_cast<size_t>(n)), wire::PacketIn{});
    if (!contents) continue;
    for (const auto &m : contents->messages) {
      if (const auto *ack = std::get_if<wire::AckResp>(&m)) {
        if (ack->seq_no == marker) return true;
        ++*others;
      }
    }
  }
  return false;
}

// A ping as small as msgpack allows: the type byte and an empty map (SeqNo 0, no node named),
// which memberlist and we both answer.
wire::Bytes empty_ping() { return {static_cast<uint8_t>(wire::MsgType::Ping), 0x80}; }

wire::Bytes compound_of(const wire::Bytes &part, size_t n) {
  std::vector<wire::Bytes> parts(n, part);
  return *wire::make_compound(parts);
}

// The datagram of the trial: compress(16 x compound(63 x compound(255 x empty ping))), 257,040
// pings in about 8 KiB.
wire::Bytes reflection_packet() {
  return wire::compress_payload(compound_of(compound_of(compound_of(empty_ping(), 255), 63), 16));
}

wire::Bytes ping_packet(uint32_t seq, const std::string &node) {
  return wire::encode(wire::Ping{seq, node, {}, 0, "tester"});
}

// ---- TCP from outside

// A TCP ping to ip:port; true when the ack for seq comes back.
bool tcp_ping(const std::string &ip, uint16_t port, const std::string &node, uint32_t seq) {
  int fd = tcp_connect(ip, port, scaled(3000ms));
  if (fd < 0) return false;
  auto framed = wire::encode_stream(wire::encode(wire::Ping{seq, node, {}, 0, "tester"}), wire::StreamOut{});
  bool eof = false;
  const bool sent = framed.ok() && send_all(fd, *framed);
  auto reply = sent ? read_all(fd, &eof) : wire::Bytes{};
  ::close(fd);
  wire::StreamIn in;
  in.read_label_header = false;
  auto msg = wire::StreamDecoder::decode(reply, in);
  return msg.ok() && std::holds_alternative<wire::AckResp>(*msg) && std::get<wire::AckResp>(*msg).seq_no == seq;
}

// Sends a whole stream request and reads the reply to EOF (the server may stop reading early).
wire::Bytes exchange(const std::string &ip, uint16_t port, const wire::Bytes &request, bool *eof) {
  int fd = tcp_connect(ip, port, scaled(10000ms));
  if (fd < 0) return {};
  (void)send_all(fd, request);
  auto reply = read_all(fd, eof);
  ::close(fd);
  return reply;
}

// A push/pull of `n` alive members with 512-byte metadata, as a 10,000-member cluster sends it.
wire::Bytes large_push_pull(int n) {
  wire::PushPull pp;
  pp.nodes.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    wire::PushNodeState s;
    char name[40];
    std::snprintf(name, sizeof name, "member-%05d.example.internal", i);
    s.name = name;
    // 127.1.0.0/16: loopback, so the node's probes of these members go nowhere harmlessly.
    s.addr = wire::Bytes{127, 1, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i & 0xff)};
    s.port = 7946;
    s.meta = wire::Bytes(512, 'm');
    s.incarnation = 1;
    s.state = static_cast<int64_t>(wire::NodeState::Alive);
    s.vsn = wire::Bytes{1, 5, 5, 0, 0, 0};
    pp.nodes.push_back(std::move(s));
  }
  return wire::encode_push_pull(pp);
}

}  // namespace

// ============================================================ 1. reflection amplification

// The part budget, without sockets: the trial's datagram yields fewer than 255 messages and one
// error; a real sender's largest datagram (one compound of 255 parts, compressed, CRC'd,
// encrypted and labelled) still arrives whole.
TEST(HostilePacket, NestedCompoundsStopAtThePartBudget) {
  const wire::Limits lim;
  auto got = wire::unpack_payload(reflection_packet(), lim);
  // Containers spend the budget too: 1 mid + 1 inner compound, then 253 pings.
  EXPECT_EQ(got.messages.size(), lim.max_packet_parts - 2);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0].code, wire::Errc::LimitExceeded);

  std::vector<wire::Bytes> parts;
  for (int i = 0; i < 255; ++i) {
    parts.push_back(wire::encode(wire::Alive{static_cast<uint32_t>(i), "n" + std::to_string(i),
                                             wire::Bytes{10, 0, 0, 1}, 7946, wire::Bytes{}, wire::Bytes{1, 5, 2, 0, 0, 0}}));
  }
  auto keyring = wire::Keyring::make({wire::Bytes(16, 7)}, wire::Bytes(16, 7));
  ASSERT_TRUE(keyring.ok());
  wire::PacketOut out;
  out.label = "cluster";
  out.compress = true;
  out.crc = true;
  out.keyring = &*keyring;
  auto datagram = wire::encode_packet(*wire::make_compound(parts), out);
  ASSERT_TRUE(datagram.ok());
  wire::PacketIn in;
  in.label = "cluster";
  in.keyring = &*keyring;
  auto whole = wire::decode_packet(*datagram, in);
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_EQ(whole->messages.size(), 255u);
  EXPECT_TRUE(whole->errors.empty());
}

// The trial's datagram gets at most kMaxRequestsPerPacket (4) acks, not 257,040: the node sends
// nothing else (it is alone), so its udp_sent counter is the number of replies.
TEST_F(Hostile, ReflectionPacketGetsAFewReplies) {
  auto &a = add(fast_config("a", "127.0.0.200"), &lines);
  ASSERT_TRUE(a.host);
  int fd = udp_socket("127.0.0.202");
  ASSERT_GE(fd, 0);
  const wire::Bytes attack = reflection_packet();
  ASSERT_LT(attack.size(), 16u * 1024);  // one small datagram
  auto before = a.host->metrics();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(udp_send(fd, "127.0.0.200", a.host->port(), attack));
  // Datagrams are handled in order: once the marker's ack is here, the attack was answered.
  ASSERT_TRUE(udp_send(fd, "127.0.0.200", a.host->port(), ping_packet(4242, "a")));
  size_t acks = 0;
  ASSERT_TRUE(await_ack(fd, 4242, 5000ms, &acks));
  ::close(fd);
  auto after = a.host->metrics();
  ASSERT_TRUE(after.ok());
  const uint64_t sent = after->udp_sent - before->udp_sent;
  EXPECT_LE(sent, 4u + 1u) << "replies to one datagram (+1 for the marker's ack)";
  EXPECT_LE(acks, 4u);
  EXPECT_GE(after->packets_dropped - before->packets_dropped, 1u);
  EXPECT_TRUE(wait_until([&] { return lines.has("compound parts; the rest is dropped"); }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return lines.has("pings in one packet beyond the first 4"); }, 3000ms));
}

// While the node takes a stream of those datagrams it keeps answering a normal ping promptly,
// and its peer never suspects it.
TEST_F(Hostile, ReflectionFloodLeavesTheNodeResponsive) {
  auto &a = add(fast_config("a", "127.0.0.203"));
  auto &b = add(fast_config("b", "127.0.0.204"));
  ASSERT_TRUE(a.host && b.host);
  ASSERT_TRUE(b.host->join({a.host->advertise()}).ok());
  ASSERT_TRUE(wait_until([&] { return converged({&a, &b}, 2); }, 5000ms));
  int fd = udp_socket("127.0.0.202");
  ASSERT_GE(fd, 0);
  const wire::Bytes attack = reflection_packet();
  // Ten attack datagrams per round, then a ping that must be answered within two probe timeouts
  // of the node's own (the trial sent ten per second for ten seconds; this is faster).
  for (uint32_t round = 1; round <= 10; ++round) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(udp_send(fd, "127.0.0.203", a.host->port(), attack));
    ASSERT_TRUE(udp_send(fd, "127.0.0.203", a.host->port(), ping_packet(round, "a")));
    size_t acks = 0;
    ASSERT_TRUE(await_ack(fd, round, 1000ms, &acks)) << "round " << round;
    EXPECT_LE(acks, 10u * 4u);
    EXPECT_EQ(state_of(*b.host, "a"), wire::NodeState::Alive) << "round " << round;
  }
  ::close(fd);
  EXPECT_FALSE(b.rec->left("a").has_value());
  EXPECT_EQ(state_of(*a.host, "b"), wire::NodeState::Alive);
}

// ============================================================ 2. idle connections

// 300 idle connections (more than the 128 push/pull slots, and more than the 256 pending ones)
// lock nobody out: a join through the node and a TCP ping to it succeed, the oldest 44 idle
// sockets were closed to make room, and the rest are closed at the first-byte deadline (3 s),
// long before tcp_timeout (10 s).
TEST_F(Hostile, IdleConnectionsDoNotLockOutStreams) {
  auto cfg = fast_config("a", "127.0.0.205");
  cfg.tcp_timeout = 10s;
  auto &a = add(cfg);
  auto &b = add(fast_config("b", "127.0.0.206"));
  ASSERT_TRUE(a.host && b.host);
  constexpr int kIdle = 300;
  std::vector<int> idle;
  const auto start = Clock::now();
  for (int i = 0; i < kIdle; ++i) {
    int fd = tcp_connect("127.0.0.205", a.host->port(), scaled(15000ms));
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->streams_pending == static_cast<uint64_t>(net::kMaxPendingStreams) &&
               st->streams_evicted == static_cast<uint64_t>(kIdle - net::kMaxPendingStreams);
      },
      3000ms));
  // A join through the node is a push/pull with it.
  auto joined = b.host->join({a.host->advertise()});
  ASSERT_TRUE(joined.ok()) << joined.error().to_string();
  EXPECT_EQ(*joined, 1);
  EXPECT_TRUE(wait_until([&] { return converged({&a, &b}, 2); }, 5000ms));
  EXPECT_TRUE(tcp_ping("127.0.0.205", a.host->port(), "a", 99));
  // Every idle socket is closed by the node, without a word.
  for (int fd : idle) {
    bool eof = false;
    auto got = read_all(fd, &eof);
    EXPECT_TRUE(eof);
    EXPECT_TRUE(got.empty());
    ::close(fd);
  }
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 2900ms);
  EXPECT_LT(took, 9s) << "idle connections must go at the first-byte deadline, not tcp_timeout";
  auto st = a.host->transport_stats();
  ASSERT_TRUE(st.ok());
  // All but the few the join and the ping pushed out (each made room for itself).
  EXPECT_GE(st->stream_timeouts, static_cast<uint64_t>(net::kMaxPendingStreams) - 4);
  EXPECT_TRUE(wait_until(
      [&] {
        auto now = a.host->transport_stats();
        return now.ok() && now->streams_pending == 0;
      },
      3000ms));
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->push_pull_refused, 0u);
}

// ============================================================ 3. push/pull memory

// 1 MiB of one-byte node states (they decoded to ~420 MB) is refused, counted and logged; the
// node keeps working; a real 10,000-member push/pull with 512-byte metadata is still accepted.
TEST_F(Hostile, TinyNodeStatesAreRefused) {
  auto &a = add(fast_config("a", "127.0.0.207"), &lines);
  ASSERT_TRUE(a.host);
  wire::Bytes tiny{static_cast<uint8_t>(wire::MsgType::PushPull)};
  wire::encode_body(tiny, wire::PushPullHeader{1 << 20, 0, false});
  tiny.insert(tiny.end(), size_t{1} << 20, 0x80);  // an empty map: a node state of one byte
  bool eof = false;
  auto reply = exchange("127.0.0.207", a.host->port(), tiny, &eof);
  EXPECT_TRUE(eof);  // refused long before the last byte: the close may come as a reset
  wire::StreamIn in;
  in.read_label_header = false;
  if (!reply.empty()) {  // the errResp, unless the reset overtook it
    auto answer = wire::StreamDecoder::decode(reply, in);
    ASSERT_TRUE(answer.ok());
    ASSERT_TRUE(std::holds_alternative<wire::ErrResp>(*answer));
    EXPECT_NE(std::get<wire::ErrResp>(*answer).error.find("push/pull node states decode to"), std::string::npos);
  }
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->streams_over_memory, 1u);
  EXPECT_EQ(m->push_pull_refused, 1u);
  EXPECT_TRUE(wait_until([&] { return lines.has("failed to receive: push/pull node states decode to"); }, 3000ms));
  EXPECT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->stream_memory == 0;
      },
      3000ms));
  EXPECT_TRUE(tcp_ping("127.0.0.207", a.host->port(), "a", 7));

  // A real large push/pull: answered with the node's state, and merged.
  auto framed = wire::encode_stream(large_push_pull(10000), wire::StreamOut{});
  ASSERT_TRUE(framed.ok());
  reply = exchange("127.0.0.207", a.host->port(), *framed, &eof);
  auto answer = wire::StreamDecoder::decode(reply, in);
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  ASSERT_TRUE(std::holds_alternative<wire::PushPull>(*answer));
  EXPECT_TRUE(wait_until([&] { return members_of(*a.host) == 10001; }, 10000ms));
  m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->streams_over_memory, 1u);
}

// The budget across streams (max_stream_memory): a push/pull that would take the node's streams
// past it is refused, counted and logged, and the node keeps answering.
TEST_F(Hostile, StreamMemoryBudgetIsShared) {
  auto cfg = fast_config("a", "127.0.0.208");
  cfg.limits.max_stream_memory = 4u << 20;  // the 10,000-member push/pull holds ~13 MB
  auto &a = add(cfg, &lines);
  ASSERT_TRUE(a.host);
  auto framed = wire::encode_stream(large_push_pull(10000), wire::StreamOut{});
  ASSERT_TRUE(framed.ok());
  bool eof = false;
  auto reply = exchange("127.0.0.208", a.host->port(), *framed, &eof);
  EXPECT_TRUE(eof);
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->streams_over_memory, 1u);
  EXPECT_EQ(m->push_pull_refused, 1u);
  EXPECT_TRUE(wait_until([&] { return lines.has("(max_stream_memory 4194304)"); }, 3000ms));
  EXPECT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->stream_memory == 0;
      },
      3000ms));
  EXPECT_TRUE(tcp_ping("127.0.0.208", a.host->port(), "a", 8));
  EXPECT_EQ(members_of(*a.host), 1);
}
