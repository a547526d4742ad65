// core/net: the UDP + TCP transport seen from outside, with raw sockets on 127.0.0.x: one port
// for both protocols, rebinding after shutdown, inbound stream bounds (deadline, concurrency),
// errResp on garbage, silence on a foreign label.
#include <algorithm>
#include <fstream>

#include "net_test_util.hpp"

#include "net/net_transport.hpp"
#include "wire/codec.hpp"
#include "wire/stream.hpp"

using namespace nettest;
using memberlist::net::Runtime;

namespace {

class Transport : public RuntimeTest {
 protected:
  TestNode &add(protocol::Config cfg) {
    nodes.push_back(std::make_unique<TestNode>(start_node(std::move(cfg), rt)));
    return *nodes.back();
  }
};

TEST_F(Transport, UdpAndTcpShareTheKernelChosenPort) {
  auto &a = add(fast_config("a", "127.0.0.21"));
  ASSERT_TRUE(a.host);
  const uint16_t port = a.host->port();
  ASSERT_NE(port, 0);
  // Both protocols hold the port: neither can be bound by anyone else.
  EXPECT_EQ(try_bind(SOCK_DGRAM, "127.0.0.21", port), EADDRINUSE);
  EXPECT_EQ(try_bind(SOCK_STREAM, "127.0.0.21", port), EADDRINUSE);
  // Advertised: the bind IP with the real port, and the node's config says so too.
  EXPECT_EQ(a.host->advertise().ip, (wire::Bytes{127, 0, 0, 21}));
  EXPECT_EQ(a.host->advertise().port, port);
  auto me = a.host->local_member();
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->port, port);
  EXPECT_EQ(me->addr, (wire::Bytes{127, 0, 0, 21}));
  auto cfg = a.host->config();
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->bind_port, port);
}

// A datagram the transport cannot send is counted and logged (memberlist logs its send failures
// too), and the node keeps running.
TEST_F(Transport, UnsendablePacketIsCountedAndLogged) {
  struct Lines : protocol::Logger {
    void log(protocol::LogLevel level, const std::string &msg) override {
      std::lock_guard<std::mutex> lk(mu);
      if (level == protocol::LogLevel::Error) lines.push_back(msg);
    }
    bool has(const std::string &prefix) {
      std::lock_guard<std::mutex> lk(mu);
      return std::any_of(lines.begin(), lines.end(), [&](const std::string &l) { return l.rfind(prefix, 0) == 0; });
    }
    std::mutex mu;
    std::vector<std::string> lines;
  };
  // Shared with the host (keep_alive): a log line may still be on a pool thread at the end.
  auto logs = std::make_shared<Lines>();
  auto rec = std::make_shared<Recorder>();
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.22");
  o.delegates = rec->delegates();
  o.delegates.logger = logs.get();
  o.runtime = rt;
  o.keep_alive = std::make_shared<std::pair<std::shared_ptr<Lines>, std::shared_ptr<Recorder>>>(logs, rec);
  auto h = net::NodeHost::create(std::move(o));
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  auto &host = *h.value();
  // An IPv6 destination, and the node has an IPv4 socket only.
  wire::Bytes loop6(16, 0);
  loop6[15] = 1;
  ASSERT_TRUE(host.send_best_effort(protocol::Endpoint{loop6, 9, ""}, wire::to_bytes("hello")).ok());
  EXPECT_TRUE(wait_until(
      [&] { return logs->has("memberlist: Failed to send UDP packet to=[::1]:9: "); },  // then the kernel's reason
      2s))
      << [&] {
           std::lock_guard<std::mutex> lk(logs->mu);
           std::string all;
           for (const auto &l : logs->lines) all += l + "\n";
           return all;
         }();
  auto stats = host.transport_stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->udp_send_errors, 1u);
  EXPECT_EQ(members_of(host), 1);
}  // h goes before logs and rec: they were declared first

TEST_F(Transport, UdpReceiveBufferIsRequested) {
  auto r = rt->call([&]() -> int {
    net::NetTransportOptions o;
    o.bind_addrs = {"127.0.0.22"};
    o.bind_port = 0;
    auto t = net::NetTransport::create(*rt, o);
    if (!t) return -1;
    const int granted = t.value()->udp_recv_buffer();
    t.value()->close();
    return granted;
  });
  ASSERT_TRUE(r.ok());
  // Linux caps the request at rmem_max (and reports double); whatever it granted, it is set.
  EXPECT_GT(*r, 0);
}

TEST_F(Transport, BindFailureIsAnErrorValue) {
  auto &a = add(fast_config("a", "127.0.0.23"));
  ASSERT_TRUE(a.host);
  auto cfg = fast_config("b", "127.0.0.23");
  cfg.bind_port = a.host->port();  // taken
  net::HostOptions o;
  o.config = cfg;
  o.runtime = rt;
  auto h = net::NodeHost::create(o);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("EADDRINUSE"), std::string::npos) << h.error().message;
  o.bind_addrs = {"no.such.ip"};
  o.config.bind_port = 0;
  EXPECT_FALSE(net::NodeHost::create(o).ok());
}

// After shutdown the port is free at once, and a node restarted on it (SO_REUSEADDR, despite
// connections in TIME_WAIT) rejoins.
TEST_F(Transport, RestartOnTheSamePortWorksImmediately) {
  auto &b = add(fast_config("b", "127.0.0.25"));
  auto a1 = start_node(fast_config("a", "127.0.0.24"), rt);
  ASSERT_TRUE(a1.host && b.host);
  const uint16_t port = a1.host->port();
  ASSERT_TRUE(a1.host->join({b.host->advertise()}).ok());
  ASSERT_TRUE(wait_until([&] { return members_of(*b.host) == 2; }, 5000ms));
  ASSERT_TRUE(a1.host->shutdown().ok());
  // Synchronously closed: both protocols can be bound by someone else right away.
  EXPECT_EQ(try_bind(SOCK_DGRAM, "127.0.0.24", port), 0);
  a1.host.reset();
  auto cfg = fast_config("a", "127.0.0.24");
  cfg.bind_port = port;
  cfg.advertise_port = port;
  auto a2 = start_node(cfg, rt);
  ASSERT_TRUE(a2.host);
  EXPECT_EQ(a2.host->port(), port);
  auto j = a2.host->join({b.host->advertise()});
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(wait_until([&] { return members_of(*a2.host) == 2 && state_of(*b.host, "a") == wire::NodeState::Alive; },
                         5000ms));
  a2.host.reset();
}

// Garbage on an inbound stream gets an errResp back (memberlist's handleConn).
TEST_F(Transport, UndecodableStreamGetsAnErrResp) {
  auto &a = add(fast_config("a", "127.0.0.26"));
  ASSERT_TRUE(a.host);
  int fd = tcp_connect("127.0.0.26", a.host->port(), scaled(3000ms));
  ASSERT_GE(fd, 0);
  const uint8_t junk[] = {0x63, 0x01, 0x02, 0x03};  // unknown message type 99
  ASSERT_EQ(::send(fd, junk, sizeof junk, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof junk));
  bool eof = false;
  auto reply = read_all(fd, &eof);
  ::close(fd);
  EXPECT_TRUE(eof);
  wire::StreamIn in;
  in.read_label_header = false;
  auto msg = wire::StreamDecoder::decode(reply, in);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string() << " " << wire::to_hex(reply);
  ASSERT_TRUE(std::holds_alternative<wire::ErrResp>(*msg));
  EXPECT_FALSE(std::get<wire::ErrResp>(*msg).error.empty());
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_GE(m->packets_dropped, 1u);
}

// A stream with another cluster's label is closed without a word.
TEST_F(Transport, ForeignLabelIsClosedSilently) {
  auto cfg = fast_config("a", "127.0.0.27");
  cfg.label = "blue";
  auto &a = add(cfg);
  ASSERT_TRUE(a.host);
  int fd = tcp_connect("127.0.0.27", a.host->port(), scaled(3000ms));
  ASSERT_GE(fd, 0);
  wire::StreamOut out;
  out.label = "green";
  auto framed = wire::encode_stream(wire::encode(wire::Ping{1, "a", {}, 0, "x"}), out);
  ASSERT_TRUE(framed.ok());
  ASSERT_EQ(::send(fd, framed->data(), framed->size(), MSG_NOSIGNAL), static_cast<ssize_t>(framed->size()));
  bool eof = false;
  auto reply = read_all(fd, &eof);
  ::close(fd);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(reply.empty()) << wire::to_hex(reply);
}

// A TCP ping over a raw connection is answered with an ack (the fallback probe path).
TEST_F(Transport, TcpPingIsAcked) {
  auto &a = add(fast_config("a", "127.0.0.28"));
  ASSERT_TRUE(a.host);
  int fd = tcp_connect("127.0.0.28", a.host->port(), scaled(3000ms));
  ASSERT_GE(fd, 0);
  auto framed = wire::encode_stream(wire::encode(wire::Ping{77, "a", {}, 0, "x"}), wire::StreamOut{});
  ASSERT_TRUE(framed.ok());
  ASSERT_EQ(::send(fd, framed->data(), framed->size(), MSG_NOSIGNAL), static_cast<ssize_t>(framed->size()));
  bool eof = false;
  auto reply = read_all(fd, &eof);
  ::close(fd);
  wire::StreamIn in;
  in.read_label_header = false;
  auto msg = wire::StreamDecoder::decode(reply, in);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  ASSERT_TRUE(std::holds_alternative<wire::AckResp>(*msg));
  EXPECT_EQ(std::get<wire::AckResp>(*msg).seq_no, 77u);
}

// An inbound connection that sends nothing is closed at tcp_timeout; and a plain EOF gets no
// answer.
TEST_F(Transport, InboundReadDeadline) {
  auto cfg = fast_config("a", "127.0.0.29");
  cfg.tcp_timeout = 300ms;
  auto &a = add(cfg);
  ASSERT_TRUE(a.host);
  const auto start = Clock::now();
  int fd = tcp_connect("127.0.0.29", a.host->port(), scaled(5000ms));
  ASSERT_GE(fd, 0);
  bool eof = false;
  auto got = read_all(fd, &eof);
  const auto took = Clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(got.empty());
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, scaled(3000ms));
  auto st = a.host->transport_stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->stream_timeouts, 1u);

  fd = tcp_connect("127.0.0.29", a.host->port(), scaled(5000ms));
  ASSERT_GE(fd, 0);
  ::shutdown(fd, SHUT_WR);  // EOF at once
  got = read_all(fd, &eof);
  ::close(fd);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(got.empty());
}

// At most max_concurrent_push_pulls inbound push/pulls are read at once; one more is closed as
// soon as it names its type (and counted as refused). Only push/pulls count, as in memberlist's
// handleConn (idle connections are bounded separately: net_test_hostile.cpp).
TEST_F(Transport, ConcurrentInboundStreamsAreBounded) {
  auto cfg = fast_config("a", "127.0.0.30");
  cfg.max_concurrent_push_pulls = 2;
  cfg.tcp_timeout = 10s;
  auto &a = add(cfg);
  ASSERT_TRUE(a.host);
  // A push/pull type byte and nothing more: declared, still being read.
  const uint8_t push_pull = static_cast<uint8_t>(wire::MsgType::PushPull);
  int idle1 = tcp_connect("127.0.0.30", a.host->port(), scaled(5000ms));
  int idle2 = tcp_connect("127.0.0.30", a.host->port(), scaled(5000ms));
  ASSERT_GE(idle1, 0);
  ASSERT_GE(idle2, 0);
  ASSERT_EQ(::send(idle1, &push_pull, 1, MSG_NOSIGNAL), 1);
  ASSERT_EQ(::send(idle2, &push_pull, 1, MSG_NOSIGNAL), 1);
  // Make sure both were counted before the third arrives.
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->streams_reading == 2;
      },
      3000ms));
  const auto start = Clock::now();
  int third = -1;
  bool eof = false;
  ASSERT_TRUE(wait_until(
      [&] {
        third = tcp_connect("127.0.0.30", a.host->port(), scaled(2000ms));
        if (third < 0) return false;
        ::send(third, &push_pull, 1, MSG_NOSIGNAL);
        auto got = read_all(third, &eof);
        ::close(third);
        return eof && got.empty();
      },
      3000ms));
  EXPECT_LT(Clock::now() - start, scaled(3000ms));  // long before the 10 s read deadline
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_GE(m->push_pull_refused, 1u);
  ::close(idle1);
  ::close(idle2);
  // Once those are gone, connections are served again.
  ASSERT_TRUE(wait_until(
      [&] {
        int fd = tcp_connect("127.0.0.30", a.host->port(), scaled(3000ms));
        if (fd < 0) return false;
        auto framed = wire::encode_stream(wire::encode(wire::Ping{5, "a", {}, 0, "x"}), wire::StreamOut{});
        ::send(fd, framed->data(), framed->size(), MSG_NOSIGNAL);
        auto got = read_all(fd, &eof);
        ::close(fd);
        return !got.empty();
      },
      3000ms));
}

// Shutdown: no delegate call after it returns, even while peers keep talking to the port.
TEST_F(Transport, NoCallbackAfterShutdown) {
  struct Counting : protocol::Delegate, protocol::EventDelegate {
    std::atomic<int> calls{0};
    void notify_msg(wire::ByteView) override { ++calls; }
    void notify_join(const protocol::Member &) override { ++calls; }
    void notify_leave(const protocol::Member &) override { ++calls; }
    void notify_update(const protocol::Member &) override { ++calls; }
    wire::Bytes node_meta(size_t) override {
      ++calls;
      return {};
    }
  };
  auto counting = std::make_shared<Counting>();  // also the host's keep_alive
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.31");
  o.runtime = rt;
  o.keep_alive = counting;
  o.delegates.delegate = counting.get();
  o.delegates.events = counting.get();
  auto a = net::NodeHost::create(o);
  ASSERT_TRUE(a.ok());
  auto &b = add(fast_config("b", "127.0.0.32"));
  ASSERT_TRUE((*a)->join({b.host->advertise()}).ok());
  ASSERT_TRUE(wait_until([&] { return members_of(*(*a)) == 2; }, 5000ms));
  ASSERT_TRUE((*a)->shutdown().ok());
  const int frozen = counting->calls.load();
  const auto a_ep = (*a)->advertise();
  for (int i = 0; i < 20; ++i) {
    (void)b.host->send_best_effort(a_ep, wire::to_bytes("late"));
    (void)b.host->send_reliable(a_ep, wire::to_bytes("late"));  // refused: the port is closed
  }
  // The node itself is stopped for good: operations fail, snapshots still answer.
  EXPECT_FALSE((*a)->join({b.host->advertise()}).ok());
  EXPECT_FALSE((*a)->send_best_effort(b.host->advertise(), wire::to_bytes("x")).ok());
  EXPECT_TRUE((*a)->members().ok());
  EXPECT_EQ(counting->calls.load(), frozen);
  a.value().reset();
}

}  // namespace
