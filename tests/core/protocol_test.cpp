// protocol::Config validation and presets, and single-node behaviour driven by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "protocol/config_table.hpp"
#include "protocol/node.hpp"
#include "state/util.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/packet.hpp"

using namespace memberlist;
using namespace std::chrono_literals;
using protocol::Config;
using wire::Bytes;

namespace {
Config named(Config c) {
  c.name = "a";
  return c;
}
std::string why(const Config &c) {
  auto st = c.validate();
  return st.ok() ? "" : st.error().message;
}
}  // namespace

TEST(Config, PresetsMatchMemberlist) {
  const Config lan = Config::lan(), wan = Config::wan(), local = Config::local();
  EXPECT_EQ(lan.probe_interval, 1s);
  EXPECT_EQ(lan.probe_timeout, 500ms);
  EXPECT_EQ(lan.suspicion_mult, 4);
  EXPECT_EQ(lan.gossip_interval, 200ms);
  EXPECT_EQ(lan.push_pull_interval, 30s);
  EXPECT_EQ(wan.probe_interval, 5s);
  EXPECT_EQ(wan.probe_timeout, 3s);
  EXPECT_EQ(wan.suspicion_mult, 6);
  EXPECT_EQ(wan.gossip_nodes, 4);
  EXPECT_EQ(wan.tcp_timeout, 30s);
  EXPECT_EQ(local.probe_timeout, 200ms);
  EXPECT_EQ(local.indirect_checks, 1);
  EXPECT_EQ(local.retransmit_mult, 2);
  EXPECT_EQ(local.gossip_interval, 100ms);
  EXPECT_EQ(local.tcp_timeout, 1s);
  for (const auto &c : {lan, wan, local}) EXPECT_EQ(why(named(c)), "");
}

TEST(Config, RejectsNonsenseWithAClearMessage) {
  auto with = [](auto edit) {
    Config c = named(Config::lan());
    edit(c);
    return why(c);
  };
  EXPECT_NE(why(Config::lan()).find("name"), std::string::npos);
  EXPECT_EQ(with([](Config &c) { c.probe_timeout = 2s; }), "");  // memberlist allows it (Sim test)
  EXPECT_NE(with([](Config &c) { c.probe_interval = 0s; }).find("probe_interval"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.probe_timeout = 0s; }).find("probe_timeout"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.tcp_timeout = -1s; }).find("tcp_timeout"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.gossip_interval = -1ms; }).find("gossip_interval"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.protocol_version = 6; }).find("protocol_version"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.protocol_version = 0; }).find("protocol_version"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.label = std::string(256, 'x'); }).find("label"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.secret_key = Bytes(20, 1); }).find("secret_key"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.udp_buffer_size = 10; }).find("udp_buffer_size"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.retransmit_mult = 0; }).find("retransmit_mult"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.cidrs_allowed = {"10.0.0.0/33"}; }).find("cidrs_allowed"), std::string::npos);
  EXPECT_NE(with([](Config &c) { c.cidrs_allowed = {"banana/8"}; }).find("cidrs_allowed"), std::string::npos);
  // 0 disables gossip and push/pull, as in memberlist.
  EXPECT_EQ(with([](Config &c) { c.gossip_interval = 0s; c.push_pull_interval = 0s; }), "");
  EXPECT_EQ(with([](Config &c) { c.secret_key = Bytes(24, 1); c.label = std::string(255, 'x'); }), "");
}

TEST(Config, Cidrs) {
  auto net = protocol::parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->contains(Bytes{10, 1, 2, 3}));
  EXPECT_FALSE(net->contains(Bytes{10, 2, 2, 3}));
  EXPECT_TRUE(net->contains(Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 9, 9}));  // IPv4-mapped
  auto v6 = protocol::parse_cidr("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->contains(Bytes{0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_FALSE(v6->contains(Bytes{10, 1, 2, 3}));
}

namespace {
struct Solo {
  protocol::Time now = protocol::Time{} + 1h;
  protocol::Node node;
  explicit Solo(Config c = named(Config::lan()))
      : node(std::move(c), protocol::Endpoint{Bytes{10, 0, 0, 1}, 7946, "a"}, {}, 1, now) {
    EXPECT_TRUE(node.start(now).ok());
    node.take_effects();
  }
  std::vector<protocol::SendPacket> sent() {
    std::vector<protocol::SendPacket> out;
    for (auto &e : node.take_effects()) {
      if (auto *p = std::get_if<protocol::SendPacket>(&e)) out.push_back(*p);
    }
    return out;
  }
};
// The ack in a datagram (broadcasts may be piggybacked on it in a compound).
wire::AckResp ack_in(const Bytes &datagram) {
  auto c = wire::decode_packet(datagram, wire::PacketIn{});
  EXPECT_TRUE(c.ok());
  for (const auto &m : c->messages) {
    if (auto *a = std::get_if<wire::AckResp>(&m)) return *a;
  }
  ADD_FAILURE() << "no ack in the packet";
  return {};
}
}  // namespace

TEST(Node, AnswersPingsWhereTheyAsk) {
  Solo s;
  const protocol::Endpoint udp_source{Bytes{10, 0, 0, 9}, 5555, ""};
  // With Source fields: reply to SourceAddr:SourcePort.
  s.node.handle_packet(s.now, udp_source, wire::encode(wire::Ping{5, "a", Bytes{10, 0, 0, 2}, 7000, "b"}));
  auto out = s.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, (protocol::Endpoint{Bytes{10, 0, 0, 2}, 7000, "b"}));
  EXPECT_EQ(ack_in(out[0].data).seq_no, 5u);
  // v0.1.5 ping (no Source fields): reply to the UDP source.
  s.node.handle_packet(s.now, udp_source, wire::encode(wire::Ping{6, "a", {}, 0, ""}));
  out = s.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to.ip, udp_source.ip);
  EXPECT_EQ(out[0].to.port, udp_source.port);
  // Meant for someone else (a previous owner of this address): no answer.
  s.node.handle_packet(s.now, udp_source, wire::encode(wire::Ping{7, "not-a", Bytes{10, 0, 0, 2}, 7000, "b"}));
  EXPECT_TRUE(s.sent().empty());
  // Garbage is counted and dropped; the node keeps working.
  s.node.handle_packet(s.now, udp_source, Bytes{0x07, 0xff});
  s.node.handle_packet(s.now, udp_source, Bytes{});
  EXPECT_GE(s.node.metrics().packets_dropped, 2u);
  s.node.handle_packet(s.now, udp_source, wire::encode(wire::Ping{8, "a", Bytes{10, 0, 0, 2}, 7000, "b"}));
  EXPECT_EQ(s.sent().size(), 1u);
}

// memberlist's per-event metrics (MeasureSince timers) are recorded as samples the runtime drains;
// undrained, the node keeps the newest kMaxMetricSamples and counts the rest as dropped.
TEST(Node, MetricSamplesAreTimedBoundedAndCounted) {
  Solo s;
  (void)s.node.take_samples();
  for (int i = 0; i < 2000; ++i) {  // 400 s: 2,000 gossip rounds at the LAN preset's 200 ms
    s.now += 200ms;
    s.node.tick(s.now);
    (void)s.node.take_effects();
  }
  const auto samples = s.node.take_samples();
  ASSERT_EQ(samples.size(), protocol::Node::kMaxMetricSamples);
  for (const auto &x : samples) {
    EXPECT_STREQ(x.name, "memberlist.gossip");  // alone: nobody to probe or push/pull with
    EXPECT_GE(x.value, 0.0);
  }
  EXPECT_GE(s.node.metrics().samples_dropped, 2000u - protocol::Node::kMaxMetricSamples - 10);
  EXPECT_TRUE(s.node.take_samples().empty());
}

// The kept samples are the newest, oldest first, also after the buffer has wrapped many times.
TEST(Node, MetricSamplesKeepTheNewestInOrder) {
  Solo s;
  // A work clock whose steps grow: every timed round lasts longer than the one before.
  auto calls = std::make_shared<int64_t>(0);
  s.node.set_work_clock([calls] {
    const int64_t k = ++*calls;
    return protocol::Time{} + std::chrono::microseconds(k * k);
  });
  (void)s.node.take_samples();
  for (int i = 0; i < 1000; ++i) {
    s.now += 200ms;
    s.node.tick(s.now);
    (void)s.node.take_effects();
  }
  const auto samples = s.node.take_samples();
  ASSERT_EQ(samples.size(), protocol::Node::kMaxMetricSamples);
  for (size_t i = 1; i < samples.size(); ++i) {
    ASSERT_LT(samples[i - 1].value, samples[i].value) << "sample " << i << " is out of order";
  }
  // Drained, a few more rounds give exactly their own samples, still in order.
  for (int i = 0; i < 5; ++i) {
    s.now += 200ms;
    s.node.tick(s.now);
    (void)s.node.take_effects();
  }
  const auto more = s.node.take_samples();
  ASSERT_FALSE(more.empty());
  EXPECT_LT(samples.back().value, more.front().value);
}

TEST(Node, RequireNodeNamesRefusesAnonymousReplies) {
  Config c = named(Config::lan());
  c.require_node_names = true;
  Solo s(c);
  s.node.handle_packet(s.now, {Bytes{10, 0, 0, 9}, 5555, ""}, wire::encode(wire::Ping{5, "a", {}, 0, ""}));
  EXPECT_TRUE(s.sent().empty());
  EXPECT_FALSE(s.node.send_best_effort(s.now, {Bytes{10, 0, 0, 2}, 7946, ""}, Bytes{1}).ok());
}

TEST(Node, RefutesAccusationsAndStartsAtIncarnationOne) {
  Solo s;
  EXPECT_EQ(s.node.local_member().incarnation, 1u);
  const protocol::Endpoint peer{Bytes{10, 0, 0, 2}, 7946, "b"};
  s.node.handle_packet(s.now, peer, wire::encode(wire::Suspect{1, "a", "b"}));
  EXPECT_EQ(s.node.local_member().incarnation, 2u);
  EXPECT_EQ(s.node.health_score(), 1);  // Lifeguard: refuting raises the score
  s.node.handle_packet(s.now, peer, wire::encode(wire::Dead{9, "a", "b"}));
  EXPECT_EQ(s.node.local_member().incarnation, 10u);  // past the accuser's incarnation
  EXPECT_EQ(s.node.local_member().state, wire::NodeState::Alive);
}

TEST(ConfigTable, SetsParsesAndRejects) {
  Config c = Config::lan();
  ASSERT_TRUE(protocol::set_property(c, "probe_interval", "250ms").ok());
  EXPECT_EQ(c.probe_interval, 250ms);
  ASSERT_TRUE(protocol::set_property(c, "gossip_nodes", "5").ok());
  EXPECT_EQ(c.gossip_nodes, 5);
  ASSERT_TRUE(protocol::set_property(c, "enable_compression", "false").ok());
  EXPECT_FALSE(c.enable_compression);
  ASSERT_TRUE(protocol::set_property(c, "secret_key", "000102030405060708090a0b0c0d0e0f").ok());
  EXPECT_EQ(c.secret_key.size(), 16u);
  ASSERT_TRUE(protocol::set_property(c, "secret_key", "AAECAwQFBgcICQoLDA0ODw==").ok());  // same key, base64
  EXPECT_EQ(c.secret_key, wire::from_hex("000102030405060708090a0b0c0d0e0f"));
  ASSERT_TRUE(protocol::set_property(c, "cidrs_allowed", "10.0.0.0/8, 192.168.1.0/24").ok());
  EXPECT_EQ(c.cidrs_allowed.size(), 2u);
  ASSERT_TRUE(protocol::set_property(c, "max_meta", "1024").ok());
  EXPECT_EQ(c.limits.max_meta, 1024u);

  const Config before = c;
  auto err = [&](const char *k, const char *v) {
    auto st = protocol::set_property(c, k, v);
    EXPECT_FALSE(st.ok()) << k << "=" << v;
    return st.ok() ? std::string() : st.error().message;
  };
  EXPECT_NE(err("no_such_key", "1").find("unknown configuration key 'no_such_key'"), std::string::npos);
  EXPECT_NE(err("probe_interval", "fast").find("probe_interval"), std::string::npos);
  EXPECT_NE(err("bind_port", "70000").find("[0, 65535]"), std::string::npos);
  EXPECT_NE(err("gossip_nodes", "3x").find("integer"), std::string::npos);
  EXPECT_NE(err("enable_compression", "maybe").find("true or false"), std::string::npos);
  EXPECT_NE(err("secret_key", "abcd").find("16, 24 or 32"), std::string::npos);
  EXPECT_NE(err("cidrs_allowed", "10.0.0.0/8,nonsense").find("CIDR"), std::string::npos);
  EXPECT_NE(err("protocol_version", "6").find("[1, 5]"), std::string::npos);
  EXPECT_EQ(c.cidrs_allowed, before.cidrs_allowed);  // a failed set changes nothing
  EXPECT_EQ(c.probe_interval, before.probe_interval);
}

TEST(ConfigTable, DurationsInGoSyntax) {
  const std::pair<const char *, protocol::Duration> cases[] = {
      {"0", 0s}, {"1s", 1s}, {"500ms", 500ms}, {"1m30s", 90s}, {"1.5s", 1500ms}, {"2h", 2h}, {"250us", 250us},
      {"10ns", 10ns}, {"1h2m3.004s", 1h + 2min + 3004ms}};
  for (const auto &[text, d] : cases) {
    auto got = protocol::parse_duration(text);
    ASSERT_TRUE(got.ok()) << text;
    EXPECT_EQ(*got, d) << text;
    EXPECT_EQ(protocol::parse_duration(protocol::format_duration(d)).value(), d) << text;
  }
  for (const char *bad : {"", "s", "5", "1x", "1..2s", "ms5"}) EXPECT_FALSE(protocol::parse_duration(bad).ok()) << bad;
  EXPECT_EQ(protocol::format_duration(90s), "1m30s");
  EXPECT_EQ(protocol::format_duration(200ms), "200ms");
}

TEST(ConfigTable, EveryKeyRoundTripsAndPresetsValidate) {
  for (const auto &cfg : {Config::lan(), Config::wan(), Config::local()}) {
    for (const auto &p : protocol::properties()) {
      Config copy = cfg;
      const std::string v = p.get(cfg);
      ASSERT_TRUE(protocol::set_property(copy, p.key, v).ok()) << p.key << "=" << v;
      EXPECT_EQ(p.get(copy), v) << p.key;
    }
  }
}

TEST(ConfigTable, ReferenceIsCurrent) {
  std::ifstream in(std::string(ML_SOURCE_DIR) + "/docs/config.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), protocol::config_reference_markdown())
      << "docs/config.md is stale: regenerate with  build/core/tools/mlconfig reference > docs/config.md";
}

// ---- memberlist's handoff order and log lines, driven by hand.
namespace {
struct Line {
  protocol::LogLevel level;
  std::string text;
};
struct RecordingLogger : protocol::Logger {
  std::vector<Line> lines;
  void log(protocol::LogLevel level, const std::string &msg) override { lines.push_back({level, msg}); }
  // How many lines start with `prefix`, at `level`.
  size_t count(protocol::LogLevel level, const std::string &prefix) const {
    return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const Line &l) {
      return l.level == level && l.text.rfind(prefix, 0) == 0;
    }));
  }
  std::string dump() const {
    std::string out;
    for (const auto &l : lines) out += std::to_string(static_cast<int>(l.level)) + " " + l.text + "\n";
    return out;
  }
};
// Records user messages and joins in the order they happen.
struct Journal : protocol::Delegate, protocol::EventDelegate {
  std::vector<std::string> seen;
  void notify_msg(wire::ByteView m) override { seen.push_back("user " + std::string(m.begin(), m.end())); }
  void notify_join(const protocol::Member &m) override { seen.push_back("join " + m.name); }
};
struct Watched {
  protocol::Time now = protocol::Time{} + 1h;
  RecordingLogger logger;
  Journal journal;
  std::unique_ptr<protocol::Node> node;
  explicit Watched(Config c = named(Config::lan()), protocol::AliveDelegate *alive = nullptr) {
    protocol::Delegates d;
    d.alive = alive;
    d.logger = &logger;
    d.delegate = &journal;
    d.events = &journal;
    node = std::make_unique<protocol::Node>(std::move(c), protocol::Endpoint{Bytes{10, 0, 0, 1}, 7946, "a"}, d, 1, now);
    EXPECT_TRUE(node->start(now).ok());
    node->take_effects();
    journal.seen.clear();
  }
};
const protocol::Endpoint kPeer{Bytes{10, 0, 0, 9}, 5555, ""};
Bytes user(const std::string &text) {
  Bytes b(text.size() + 1);
  b[0] = static_cast<uint8_t>(wire::MsgType::User);
  std::copy(text.begin(), text.end(), b.begin() + 1);
  return b;
}
Bytes compound(const std::vector<Bytes> &parts) { return *wire::make_compound(parts); }
wire::Alive alive_of(const std::string &name, Bytes ip, uint32_t inc) {
  return wire::Alive{inc, name, std::move(ip), 7946, Bytes{}, Bytes{1, 5, 2, 0, 0, 0}};
}
}  // namespace

TEST(Handoff, UserMessagesInOneCompoundArriveNewestFirst) {
  Watched w;
  w.node->handle_packet(w.now, kPeer, compound({user("first"), user("second"), user("third")}));
  EXPECT_EQ(w.journal.seen, (std::vector<std::string>{"user third", "user second", "user first"}));
}

TEST(Handoff, AliveIsHandledBeforeUserMessagesOfTheSamePacket) {
  Watched w;
  const Bytes alive = wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 1));
  w.node->handle_packet(w.now, kPeer, compound({user("hello"), alive, user("bye")}));
  EXPECT_EQ(w.journal.seen, (std::vector<std::string>{"join b", "user bye", "user hello"}));
}

TEST(Handoff, OverflowBeyondTheQueueDepthIsDroppedCountedAndLogged) {
  Config c = named(Config::lan());
  c.handoff_queue_depth = 1;
  Watched w(c);
  w.node->handle_packet(w.now, kPeer, compound({user("m0"), user("m1"), user("m2")}));
  // The queue holds one; the ones arriving while it is full are dropped (memberlist's rule).
  EXPECT_EQ(w.journal.seen, (std::vector<std::string>{"user m0"}));
  EXPECT_EQ(w.node->metrics().handoff_dropped, 2u);
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn,
                           "memberlist: handler queue full, dropping message (8) from=10.0.0.9:5555"),
            2u)
      << w.logger.dump();
  // The two queues are bounded separately: an alive still fits beside a user message.
  w.node->handle_packet(w.now, kPeer, compound({user("m3"), wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 1))}));
  EXPECT_EQ(w.journal.seen, (std::vector<std::string>{"user m0", "join b", "user m3"}));
  EXPECT_EQ(w.node->metrics().handoff_dropped, 2u);
}

TEST(Logs, ConflictingAddressAtError) {
  Watched w;
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 1)));
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 3}, 2)));
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Error,
                           "memberlist: Conflicting address for b. Mine: 10.0.0.2:7946 Theirs: 10.0.0.3:7946 "
                           "Old state: 0"),
            1u)
      << w.logger.dump();
  EXPECT_EQ(w.node->member("b")->addr, (Bytes{10, 0, 0, 2}));  // the conflict changed nothing
}

TEST(Logs, BadProtocolVersionsAreRefusedWithAWarning) {
  Watched w;
  wire::Alive a = alive_of("b", Bytes{10, 0, 0, 2}, 1);
  a.vsn = Bytes{3, 2, 2, 0, 0, 0};  // PMin > PMax
  w.node->handle_packet(w.now, kPeer, wire::encode(a));
  EXPECT_FALSE(w.node->member("b").has_value());
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn,
                           "memberlist: Ignoring an alive message for 'b' (10.0.0.2:7946) because protocol "
                           "version(s) are wrong: 3 <= 2 <= 2 should be >0"),
            1u)
      << w.logger.dump();
}

TEST(Logs, JoinFailureIsDebugAndPushPullStartIsLogged) {
  Watched w;
  const protocol::Endpoint seed{Bytes{10, 0, 0, 2}, 7946, "b"};
  const auto op = w.node->join(w.now, {seed});
  std::optional<protocol::StreamId> stream;
  for (auto &e : w.node->take_effects()) {
    if (auto *o = std::get_if<protocol::OpenStream>(&e)) stream = o->id;
  }
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Debug, "memberlist: Initiating push/pull sync with: b 10.0.0.2:7946"),
            1u)
      << w.logger.dump();
  w.node->stream_result(w.now, *stream, wire::make_error(wire::Errc::Truncated, "connection refused"));
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Debug, "memberlist: failed to join 10.0.0.2:7946: connection refused"),
            1u)
      << w.logger.dump();
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn, "memberlist: failed to join"), 0u);
  bool failed = false;
  for (auto &e : w.node->take_effects()) {
    if (auto *d = std::get_if<protocol::OpDone>(&e); d && d->op == op) failed = !d->status.ok();
  }
  EXPECT_TRUE(failed);
}

TEST(Logs, UndecryptablePacketsUseMemberlistsWords) {
  Config c = named(Config::lan());
  c.secret_key = Bytes(16, 1);
  Watched w(c);
  w.node->handle_packet(w.now, kPeer, wire::encode(wire::Ping{1, "a", {}, 0, ""}));  // plaintext
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Error, "memberlist: Decrypt packet failed: "), 1u) << w.logger.dump();
  EXPECT_EQ(w.node->metrics().packets_dropped, 1u);
}

TEST(Logs, WrongKeyIsADecryptFailure) {
  Config c = named(Config::lan());
  c.secret_key = Bytes(16, 1);
  Watched w(c);
  wire::Keyring other;
  ASSERT_TRUE(other.add_key(Bytes(16, 2)).ok());
  ASSERT_TRUE(other.use_key(Bytes(16, 2)).ok());
  wire::PacketOut o;
  o.keyring = &other;
  auto pkt = wire::encode_packet(wire::encode(wire::Ping{1, "a", {}, 0, ""}), o);
  ASSERT_TRUE(pkt.ok());
  w.node->handle_packet(w.now, kPeer, *pkt);
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Error, "memberlist: Decrypt packet failed: "), 1u) << w.logger.dump();
  EXPECT_EQ(w.node->metrics().packets_dropped, 1u);
}

namespace {
// Shuts its node down from inside the first user message it gets.
struct Stopper : protocol::Delegate {
  protocol::Node *node = nullptr;
  std::vector<std::string> seen;
  void notify_msg(wire::ByteView m) override {
    seen.emplace_back(m.begin(), m.end());
    node->shutdown(protocol::Time{});
  }
};
}  // namespace

// memberlist #239 / #260: a compound whose count wrapped past 255 (an older sender's
// makeCompoundMessage) is dropped whole, counted in packets_dropped and logged with the sender
// and the figures; the node carries on with the next packet.
TEST(Hostile, WrappedCompoundCountIsDroppedWholeCountedAndLogged) {
  Watched w;
  std::vector<Bytes> parts(300, user("x"));
  Bytes wrapped{static_cast<uint8_t>(wire::MsgType::Compound), static_cast<uint8_t>(parts.size())};
  for (const auto &p : parts) {
    wrapped.push_back(0);
    wrapped.push_back(static_cast<uint8_t>(p.size()));
  }
  for (const auto &p : parts) wrapped.insert(wrapped.end(), p.begin(), p.end());
  w.node->handle_packet(w.now, kPeer, wrapped);
  EXPECT_TRUE(w.journal.seen.empty());
  EXPECT_EQ(w.node->metrics().packets_dropped, 1u);
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn,
                           "memberlist: Dropped a message from=10.0.0.9:5555: compound: 44 parts announce 88 bytes"),
            1u)
      << w.logger.dump();
  w.node->handle_packet(w.now, kPeer, compound({user("after")}));
  EXPECT_EQ(w.journal.seen, (std::vector<std::string>{"user after"}));
}

// A message that, framed, no UDP datagram can hold is refused with the sizes, not handed to the
// socket; one that compresses below the limit goes.
TEST(Hostile, PacketOverAUdpDatagramIsRefusedWithTheSizes) {
  Config c = named(Config::lan());
  c.enable_compression = false;
  Watched w(c);
  Bytes noise(70000);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  auto st = w.node->send_best_effort(w.now, kPeer, noise);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, wire::Errc::LimitExceeded);
  EXPECT_NE(st.error().message.find("a packet of 70001 bytes (a 70001-byte message) is over the 65507"),
            std::string::npos)
      << st.error().message;
  EXPECT_TRUE(w.node->take_effects().empty());
  EXPECT_EQ(w.node->metrics().udp_sent, 0u);
  Watched z;  // compression on (the default): 70,000 zeros shrink to a few hundred bytes
  EXPECT_TRUE(z.node->send_best_effort(z.now, kPeer, Bytes(70000, 0)).ok());
}

namespace {
struct MetaJournal : Journal {
  Bytes meta;
  size_t asked = 0;
  Bytes node_meta(size_t limit) override {
    asked = limit;
    return meta;
  }
};
}  // namespace

// meta_max_size: memberlist's 512 by default; the delegate is asked with it, metadata over it
// is refused at start and at update with the sizes, and the receive bound rises to match.
TEST(Meta, MetaMaxSizeSetsTheLocalLimitAndRaisesTheReceiveBound) {
  const protocol::Time now = protocol::Time{} + 1h;
  const protocol::Endpoint self{Bytes{10, 0, 0, 1}, 7946, "a"};
  auto start = [&](Config c, MetaJournal &j, RecordingLogger &log) {
    protocol::Delegates d;
    d.delegate = &j;
    d.events = &j;
    d.logger = &log;
    auto node = std::make_unique<protocol::Node>(std::move(c), self, d, 1, now);
    auto st = node->start(now);
    return std::make_pair(std::move(node), st.ok() ? std::string() : st.error().message);
  };
  {  // default: 512, as memberlist
    MetaJournal j;
    RecordingLogger log;
    j.meta = Bytes(513, 1);
    auto [node, err] = start(named(Config::lan()), j, log);
    EXPECT_EQ(j.asked, 512u);
    EXPECT_EQ(err, "node metadata is 513 bytes; at most 512 are allowed (meta_max_size)");
    EXPECT_TRUE(log.lines.empty()) << log.dump();  // no warning at the default
  }
  Config c = named(Config::lan());
  c.meta_max_size = 1200;
  MetaJournal j;
  RecordingLogger log;
  j.meta = Bytes(1100, 1);
  auto [node, err] = start(c, j, log);
  ASSERT_EQ(err, "");
  EXPECT_EQ(j.asked, 1200u);
  EXPECT_EQ(log.count(protocol::LogLevel::Warn, "memberlist: meta_max_size is 1200, over memberlist's 512"), 1u)
      << log.dump();
  EXPECT_EQ(node->local_member().meta, j.meta);
  // A peer's alive with 1,150 bytes of metadata is accepted (the receive bound rose to 1,200)...
  wire::Alive a = alive_of("b", Bytes{10, 0, 0, 2}, 1);
  a.meta = Bytes(1150, 2);
  node->handle_packet(now, kPeer, wire::encode(a));
  ASSERT_TRUE(node->member("b").has_value());
  EXPECT_EQ(node->member("b")->meta.size(), 1150u);
  // ... one with 1,201 is not.
  wire::Alive big = alive_of("c", Bytes{10, 0, 0, 3}, 1);
  big.meta = Bytes(1201, 3);
  node->handle_packet(now, kPeer, wire::encode(big));
  EXPECT_FALSE(node->member("c").has_value());
  EXPECT_EQ(node->metrics().packets_dropped, 1u);
  // update_node over the limit fails with the sizes; within it, it goes through.
  (void)node->take_effects();
  j.meta = Bytes(1201, 4);
  const auto op = node->update_node(now, 1s);
  std::string status;
  for (auto &e : node->take_effects()) {
    if (auto *d = std::get_if<protocol::OpDone>(&e); d && d->op == op) status = d->status.ok() ? "ok" : d->status.error().message;
  }
  EXPECT_EQ(status, "node metadata is 1201 bytes; at most 1200 are allowed (meta_max_size)");
  EXPECT_EQ(node->local_member().meta.size(), 1100u);
  // A larger max_meta is kept (meta_max_size only raises it).
  Config wide = named(Config::lan());
  wide.meta_max_size = 600;
  wide.limits.max_meta = 4096;
  MetaJournal j2;
  RecordingLogger log2;
  auto [node2, err2] = start(wide, j2, log2);
  ASSERT_EQ(err2, "");
  a.meta = Bytes(3000, 2);
  node2->handle_packet(now, kPeer, wire::encode(a));
  ASSERT_TRUE(node2->member("b").has_value());
  EXPECT_EQ(node2->member("b")->meta.size(), 3000u);
}

// The ceiling: the alive message that carries the metadata must fit one packet.
TEST(Meta, MetaMaxSizeThatCouldNeverBeSentIsRefused) {
  auto with = [](auto edit) {
    Config c = named(Config::lan());
    edit(c);
    return why(c);
  };
  EXPECT_EQ(with([](Config &c) { c.meta_max_size = 0; }), "");
  EXPECT_EQ(with([](Config &c) { c.meta_max_size = 1200; }), "");
  EXPECT_NE(with([](Config &c) { c.meta_max_size = -1; }).find("meta_max_size: must be in [0, 65535]"),
            std::string::npos);
  EXPECT_NE(with([](Config &c) { c.meta_max_size = 65536; }).find("meta_max_size: must be in [0, 65535]"),
            std::string::npos);
  Config c = named(Config::lan());
  const size_t fit = c.meta_max_size_fitting();
  EXPECT_GT(fit, 1300u);
  EXPECT_LE(c.alive_size(fit), c.packet_room());
  EXPECT_GT(c.alive_size(fit + 1), c.packet_room());
  c.meta_max_size = static_cast<int>(fit);
  EXPECT_EQ(why(c), "");
  c.meta_max_size = static_cast<int>(fit + 1);
  const std::string msg = why(c);
  EXPECT_NE(msg.find("meta_max_size: " + std::to_string(fit + 1) + " bytes of metadata make an alive message of"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("can be at most " + std::to_string(fit)), std::string::npos) << msg;
  // A label and a key take their share of the packet.
  Config k = named(Config::lan());
  k.label = std::string(100, 'l');
  k.secret_key = Bytes(32, 1);
  EXPECT_EQ(k.meta_max_size_fitting(), fit - 102 - 45);
  // The largest packet leaves room for nearly 64 KiB, and no more.
  Config wide = named(Config::lan());
  wide.udp_buffer_size = 65507;
  wide.meta_max_size = 65000;
  EXPECT_EQ(why(wide), "");
  wide.meta_max_size = 65535;
  EXPECT_NE(why(wide).find("raise udp_buffer_size"), std::string::npos);
  // Through the string key.
  Config s = named(Config::lan());
  ASSERT_TRUE(protocol::set_property(s, "meta_max_size", "2048").ok());
  EXPECT_EQ(s.meta_max_size, 2048);
  EXPECT_EQ(*protocol::get_property(s, "meta_max_size"), "2048");
  EXPECT_FALSE(protocol::set_property(s, "meta_max_size", "65536").ok());
  EXPECT_FALSE(protocol::set_property(s, "meta_max_size", "lots").ok());
  EXPECT_EQ(*protocol::get_property(Config::lan(), "meta_max_size"), "512");
}

TEST(Handoff, NothingIsHandledAfterADelegateShutsTheNodeDown) {
  Stopper stopper;
  protocol::Delegates d;
  d.delegate = &stopper;
  const protocol::Time now = protocol::Time{} + 1h;
  protocol::Node node(named(Config::lan()), protocol::Endpoint{Bytes{10, 0, 0, 1}, 7946, "a"}, d, 1, now);
  stopper.node = &node;
  ASSERT_TRUE(node.start(now).ok());
  node.handle_packet(now, kPeer, compound({user("m0"), user("m1")}));
  EXPECT_EQ(stopper.seen, (std::vector<std::string>{"m1"}));
}

// handleAlive and readRemoteState: a port of 0 means the receiver's BindPort (WIRE.md §4.8),
// never an undialable ":0". BindPort differs from the advertised port here so the test can tell.
TEST(Hostile, AlivePortZeroBecomesOurBindPort) {
  Config c = named(Config::lan());
  c.bind_port = 8000;
  Watched w(c);
  wire::Alive a = alive_of("b", Bytes{10, 0, 0, 2}, 1);
  a.port = 0;
  w.node->handle_packet(w.now, kPeer, wire::encode(a));
  ASSERT_TRUE(w.node->member("b").has_value());
  EXPECT_EQ(w.node->member("b")->port, 8000);
  // The same in a push/pull node state.
  wire::PushPull pp;
  pp.nodes.push_back(wire::PushNodeState{"c", Bytes{10, 0, 0, 3}, 0, Bytes{}, 1,
                                         static_cast<int64_t>(wire::NodeState::Alive), Bytes{1, 5, 2, 0, 0, 0}});
  w.node->handle_stream(w.now, 1, kPeer, pp);
  ASSERT_TRUE(w.node->member("c").has_value()) << w.logger.dump();
  EXPECT_EQ(w.node->member("c")->port, 8000);
}

// memberlist #358: a refutation of an accusation at 0xFFFFFFFF must not wrap to 0.
TEST(Hostile, RefutationSaturatesAtTheLastIncarnation) {
  Solo s;
  const protocol::Endpoint peer{Bytes{10, 0, 0, 2}, 7946, "b"};
  s.node.handle_packet(s.now, peer, wire::encode(wire::Dead{0xFFFFFFFF, "a", "b"}));
  EXPECT_EQ(s.node.local_member().incarnation, 0xFFFFFFFFu);
  EXPECT_EQ(s.node.local_member().state, wire::NodeState::Alive);
  s.node.handle_packet(s.now, peer, wire::encode(wire::Suspect{0xFFFFFFFF, "a", "b"}));
  EXPECT_EQ(s.node.local_member().incarnation, 0xFFFFFFFFu);
  // Nor may a metadata update wrap it.
  s.node.update_node(s.now, 1s);
  EXPECT_EQ(s.node.local_member().incarnation, 0xFFFFFFFFu);
}

// The ceiling tie rule: at 0xFFFFFFFF an alive beats a suspect or dead of the same incarnation
// (nothing could be strictly greater), but never a leave, and below the ceiling nothing changes.
TEST(Hostile, AliveAtTheLastIncarnationOverridesAnAccusationThere) {
  Watched w;
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 5)));
  w.node->handle_packet(w.now, kPeer, wire::encode(wire::Dead{5, "b", "c"}));
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 5)));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Dead);  // memberlist's strict rule below it
  w.node->handle_packet(w.now, kPeer, wire::encode(wire::Dead{0xFFFFFFFF, "b", "c"}));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Dead);
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 0xFFFFFFFF)));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Alive);
  w.node->handle_packet(w.now, kPeer, wire::encode(wire::Suspect{0xFFFFFFFF, "b", "c"}));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Suspect);
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 0xFFFFFFFF)));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Alive);
  w.node->handle_packet(w.now, kPeer, wire::encode(wire::Dead{0xFFFFFFFF, "b", "b"}));  // b leaves
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 0xFFFFFFFF)));
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Left);
}

// Vsn-length rules. memberlist (v0.7.0) ignores a datagram alive whose Vsn is shorter than 6
// bytes only when an AliveDelegate judges; without one it stores the node with zero versions,
// after which every push/pull merge fails verifyProtocol (issue 12, hostile check 4: one forged
// datagram stops anti-entropy and joins through the node). We refuse it either way. In a
// push/pull such an entry never reaches aliveNode: verifyProtocol reads its current version
// as 0 and refuses the whole merge.
TEST(Hostile, ShortVsnIsRefused) {
  protocol::AliveDelegate judge;
  Watched w(named(Config::lan()), &judge);
  wire::Alive a = alive_of("b", Bytes{10, 0, 0, 2}, 1);
  a.vsn = Bytes{1, 5, 2};
  w.node->handle_packet(w.now, kPeer, wire::encode(a));
  EXPECT_FALSE(w.node->member("b").has_value());
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn,
                           "memberlist: ignoring alive message for 'b' (10.0.0.2:7946) because Vsn is not present"),
            1u)
      << w.logger.dump();
  Watched plain;
  for (const Bytes &v : {Bytes{1, 5, 2}, Bytes{1}, Bytes{}}) {
    a.vsn = v;
    plain.node->handle_packet(plain.now, kPeer, wire::encode(a));
    EXPECT_FALSE(plain.node->member("b").has_value()) << "Vsn of " << v.size() << " bytes";
  }
  a.vsn.reset();
  plain.node->handle_packet(plain.now, kPeer, wire::encode(a));
  EXPECT_FALSE(plain.node->member("b").has_value()) << "no Vsn";
  // A well-formed push/pull still merges afterwards.
  wire::PushPull good;
  good.nodes.push_back(wire::PushNodeState{"d", Bytes{10, 0, 0, 4}, 7946, Bytes{}, 1,
                                           static_cast<int64_t>(wire::NodeState::Alive), Bytes{1, 5, 2, 0, 0, 0}});
  plain.node->handle_stream(plain.now, 2, kPeer, good);
  EXPECT_TRUE(plain.node->member("d").has_value()) << plain.logger.dump();
  wire::PushPull pp;
  pp.nodes.push_back(wire::PushNodeState{"c", Bytes{10, 0, 0, 3}, 7946, Bytes{}, 1,
                                         static_cast<int64_t>(wire::NodeState::Alive), Bytes{1, 5, 2}});
  for (Watched *x : {&w, &plain}) {
    x->node->handle_stream(x->now, 1, kPeer, pp);
    EXPECT_FALSE(x->node->member("c").has_value());
    EXPECT_EQ(x->logger.count(protocol::LogLevel::Error,
                              "memberlist: Failed push/pull merge: node 'c' protocol version (0) is incompatible"),
              1u)
        << x->logger.dump();
  }
}

// Old news about a known node (the bulk of gossip while a cluster joins) takes a fast path in
// aliveNode that skips the copies of the full one. It must be invisible: nothing queued or
// counted for a plain echo, while an echo that the full path would log (a bad Vsn, another
// address) or that an AliveDelegate must judge still goes the full way.
TEST(Alive, OldNewsFastPathChangesNothingObservable) {
  Watched w;
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 5)));
  ASSERT_TRUE(w.node->member("b").has_value());
  const auto before = w.node->metrics();
  const size_t lines_before = w.logger.lines.size();
  for (uint32_t inc : {5u, 4u, 0u}) {
    w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, inc)));
  }
  EXPECT_EQ(w.node->metrics().msg_alive, before.msg_alive);
  EXPECT_EQ(w.node->metrics().queue_system, before.queue_system);
  EXPECT_EQ(w.node->member("b")->incarnation, 5u);
  EXPECT_EQ(w.logger.lines.size(), lines_before) << w.logger.dump();

  wire::Alive bad = alive_of("b", Bytes{10, 0, 0, 2}, 5);
  bad.vsn = Bytes{1, 5, 2};
  w.node->handle_packet(w.now, kPeer, wire::encode(bad));
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Warn,
                           "memberlist: ignoring alive message for 'b' (10.0.0.2:7946) because Vsn is not present"),
            1u)
      << w.logger.dump();
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 3}, 5)));
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Error, "memberlist: Conflicting address for b."), 1u)
      << w.logger.dump();
  // A newer incarnation is news: queued and counted.
  w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 6)));
  EXPECT_EQ(w.node->metrics().msg_alive, before.msg_alive + 1);
  EXPECT_EQ(w.node->member("b")->incarnation, 6u);

  struct Counting : protocol::AliveDelegate {
    int seen = 0;
    std::optional<std::string> notify_alive(const protocol::Member &) override {
      ++seen;
      return std::nullopt;
    }
  } judge;
  Watched j(named(Config::lan()), &judge);
  judge.seen = 0;  // the node's own alive at start
  for (int i = 0; i < 3; ++i) j.node->handle_packet(j.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 1)));
  EXPECT_EQ(judge.seen, 3) << "the AliveDelegate judges every alive, echoes included";
}

// memberlist's sendPingAndWaitForAck stays silent when the fallback TCP ping cannot connect
// (that is what a dead node looks like); a failure once connected is logged at ERROR. The
// transports report a failed dial as Errc::Network.
TEST(Logs, FallbackTcpPingThatCannotConnectIsNotLogged) {
  for (const bool connected : {false, true}) {
    Watched w;
    w.node->handle_packet(w.now, kPeer, wire::encode(alive_of("b", Bytes{10, 0, 0, 2}, 1)));
    w.node->take_effects();
    std::optional<protocol::StreamId> tcp_ping;
    for (int i = 0; i < 100 && !tcp_ping; ++i) {
      w.now += 100ms;
      w.node->tick(w.now);
      for (auto &e : w.node->take_effects()) {
        if (auto *o = std::get_if<protocol::OpenStream>(&e); o && o->to.name == "b" && o->expect_reply) tcp_ping = o->id;
      }
    }
    ASSERT_TRUE(tcp_ping.has_value()) << "no fallback TCP ping within 10 s";
    w.node->stream_result(w.now, *tcp_ping,
                          connected ? wire::make_error(wire::Errc::Truncated, "EOF")
                                    : wire::make_error(wire::Errc::Network,
                                                       "dial tcp 10.0.0.2:7946: connect: connection refused"));
    EXPECT_EQ(w.logger.count(protocol::LogLevel::Error, "memberlist: Failed fallback TCP ping"), connected ? 1u : 0u)
        << (connected ? "connected" : "never connected") << "\n"
        << w.logger.dump();
  }
}

// Lifeguard's final check (one more probe before declaring an expired suspect dead) is for a
// lone accuser. A suspicion with its k independent confirmations is declared when its timer ends,
// as memberlist does, not after a turn of the probe slot (which the check would need).
TEST(Suspicion, ConfirmedSuspectIsDeclaredAtExpiry) {
  Watched w;
  for (const char *peer : {"b", "c", "d", "e"}) {
    w.node->handle_packet(w.now, kPeer, wire::encode(alive_of(peer, Bytes{10, 0, 0, static_cast<uint8_t>(peer[0])}, 1)));
  }
  w.node->take_effects();
  const protocol::Time t0 = w.now;
  // One accuser and k = SuspicionMult - 2 = 2 confirmations.
  for (const char *accuser : {"c", "d", "e"}) {
    w.node->handle_packet(w.now, kPeer, wire::encode(wire::Suspect{1, "b", accuser}));
  }
  ASSERT_EQ(w.node->member("b")->state, wire::NodeState::Suspect);
  const Config cfg = named(Config::lan());
  const auto min = memberlist::state::suspicion_timeout(cfg.suspicion_mult, 5, cfg.probe_interval);
  while (w.now < t0 + min + 50ms) {
    w.now += 50ms;
    w.node->tick(w.now);
    w.node->take_effects();  // nobody answers
  }
  EXPECT_EQ(w.node->member("b")->state, wire::NodeState::Dead) << w.logger.dump();
  EXPECT_EQ(w.logger.count(protocol::LogLevel::Info, "memberlist: Marking b as failed, suspect timeout reached (2 peer"), 1u)
      << w.logger.dump();
}

// ---- Name reuse with a new address (Config::reclaim_name_on_new_address), driven by hand.
namespace {
struct ReuseEvents : protocol::EventDelegate, protocol::ConflictDelegate {
  std::vector<std::string> seen;  // "join b 10.0.0.3", "leave b 10.0.0.2", "conflict b 10.0.0.2 10.0.0.3"
  static std::string ip(const Bytes &b) { return b.size() == 4 ? std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]) : "?"; }
  void notify_join(const protocol::Member &m) override { seen.push_back("join " + m.name + " " + ip(m.addr)); }
  void notify_leave(const protocol::Member &m) override { seen.push_back("leave " + m.name + " " + ip(m.addr)); }
  void notify_update(const protocol::Member &m) override { seen.push_back("update " + m.name + " " + ip(m.addr)); }
  void notify_conflict(const protocol::Member &a, const protocol::Member &b) override {
    seen.push_back("conflict " + a.name + " " + ip(a.addr) + " " + ip(b.addr));
  }
};
// A node with the option on and nothing periodic (no probes, gossip or push/pull): only what
// the test sends happens.
struct Reuse {
  protocol::Time now = protocol::Time{} + 1h;
  RecordingLogger logger;
  ReuseEvents ev;
  std::unique_ptr<protocol::Node> node;
  explicit Reuse(bool on = true) {
    Config c = named(Config::lan());
    c.reclaim_name_on_new_address = on;
    c.probe_interval = 1h;
    c.gossip_interval = 0s;
    c.push_pull_interval = 0s;
    c.reconnect_interval = 0s;
    protocol::Delegates d;
    d.logger = &logger;
    d.events = &ev;
    d.conflict = &ev;
    node = std::make_unique<protocol::Node>(std::move(c), protocol::Endpoint{Bytes{10, 0, 0, 1}, 7946, "a"}, d, 1, now);
    EXPECT_TRUE(node->start(now).ok());
    node->take_effects();
    ev.seen.clear();
  }
  void alive(const std::string &name, Bytes ip, uint32_t inc, Bytes meta = {}) {
    wire::Alive a = alive_of(name, std::move(ip), inc);
    a.meta = std::move(meta);
    node->handle_packet(now, kPeer, wire::encode(a));
  }
  // The pings sent since the last call: (sequence number, target name) by destination IP.
  std::vector<std::pair<Bytes, wire::Ping>> pings() {
    std::vector<std::pair<Bytes, wire::Ping>> out;
    for (auto &e : node->take_effects()) {
      auto *p = std::get_if<protocol::SendPacket>(&e);
      if (!p) continue;
      auto c = wire::decode_packet(p->data, wire::PacketIn{});
      if (!c.ok()) continue;
      for (auto &m : c->messages) {
        if (auto *ping = std::get_if<wire::Ping>(&m)) out.emplace_back(p->to.ip, *ping);
      }
    }
    return out;
  }
  // Moves the clock on and ticks; what the tick sends (the periodic probe, at most) is dropped.
  void advance(protocol::Duration d) {
    now += d;
    node->tick(now);
    node->take_effects();
  }
};
const Bytes kOld{10, 0, 0, 2}, kNew{10, 0, 0, 3}, kThird{10, 0, 0, 4};
}  // namespace

// A dead holder gives way at once (no dead_node_reclaim_time), even to a lower incarnation (the
// restarted node counts from 1 again), with a join as memberlist delivers for a reclaim.
// Without the option the same claim is a conflict.
TEST(NameReuse, DeadHolderGivesWayAtOnceToALowerIncarnation) {
  for (bool on : {true, false}) {
    Reuse r(on);
    r.alive("b", kOld, 7);
    r.node->handle_packet(r.now, kPeer, wire::encode(wire::Dead{7, "b", "c"}));
    r.ev.seen.clear();
    r.alive("b", kNew, 1, Bytes{'x'});
    const auto m = r.node->member("b");
    ASSERT_TRUE(m.has_value());
    if (on) {
      EXPECT_EQ(m->addr, kNew);
      EXPECT_EQ(m->state, wire::NodeState::Alive);
      EXPECT_EQ(m->incarnation, 1u);
      EXPECT_EQ(m->meta, Bytes{'x'});
      EXPECT_EQ(r.ev.seen, (std::vector<std::string>{"join b 10.0.0.3"}));
      EXPECT_EQ(r.logger.count(protocol::LogLevel::Info,
                               "memberlist: Updating address for left or failed node b from 10.0.0.2:7946 to "
                               "10.0.0.3:7946"),
                1u)
          << r.logger.dump();
      EXPECT_TRUE(r.pings().empty());  // nothing alive to ask
    } else {
      EXPECT_EQ(m->addr, kOld);
      EXPECT_EQ(m->state, wire::NodeState::Dead);
      EXPECT_EQ(r.ev.seen, (std::vector<std::string>{"conflict b 10.0.0.2 10.0.0.3"}));
    }
  }
}

// An alive holder: one ping, naming it, to its old address; the claim waits. Later claims for
// the name send no second ping and the newest is kept. No ack within probe_timeout: the old
// incarnation leaves, the newest claim joins.
TEST(NameReuse, UnansweredPingMovesTheNameToTheNewestClaim) {
  Reuse r;
  r.alive("b", kOld, 3);
  r.ev.seen.clear();
  r.alive("b", kNew, 1);
  auto pings = r.pings();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, kOld);
  EXPECT_EQ(pings[0].second.node, "b");
  EXPECT_EQ(r.node->member("b")->addr, kOld);  // nothing moves before the check ends
  EXPECT_EQ(r.node->metrics().name_checks_pending, 1u);
  EXPECT_EQ(r.node->next_deadline(), r.now + 500ms);
  r.alive("b", kThird, 2, Bytes{'n'});  // a newer claim replaces the pending one
  r.alive("b", kNew, 1);                // an older one does not
  EXPECT_TRUE(r.pings().empty());
  EXPECT_EQ(r.node->metrics().name_checks, 1u);
  r.advance(499ms);
  EXPECT_EQ(r.node->member("b")->addr, kOld);
  r.advance(1ms);
  const auto m = r.node->member("b");
  EXPECT_EQ(m->addr, kThird);
  EXPECT_EQ(m->state, wire::NodeState::Alive);
  EXPECT_EQ(m->incarnation, 2u);
  EXPECT_EQ(m->meta, Bytes{'n'});
  EXPECT_EQ(r.ev.seen, (std::vector<std::string>{"leave b 10.0.0.2", "join b 10.0.0.4"}));
  EXPECT_EQ(r.node->metrics().name_reclaimed, 1u);
  EXPECT_EQ(r.node->metrics().name_checks_pending, 0u);
  // The alive about b's new address is queued as a reference to its entry; none went stale.
  EXPECT_EQ(r.node->metrics().queue_system_by_reference, 1u);
  EXPECT_EQ(r.node->metrics().queue_stale_dropped, 0u);
  EXPECT_EQ(r.logger.count(protocol::LogLevel::Info,
                           "memberlist: Node b did not answer at its old address 10.0.0.2:7946 within the probe "
                           "timeout: taking its new address 10.0.0.4:7946"),
            1u)
      << r.logger.dump();
}

// The same while the holder is suspect, and the suspicion ends with the move.
TEST(NameReuse, SuspectHolderIsCheckedToo) {
  Reuse r;
  r.alive("b", kOld, 3);
  r.node->handle_packet(r.now, kPeer, wire::encode(wire::Suspect{3, "b", "c"}));
  ASSERT_EQ(r.node->member("b")->state, wire::NodeState::Suspect);
  r.alive("b", kNew, 1);
  ASSERT_EQ(r.pings().size(), 1u);
  r.advance(500ms);
  EXPECT_EQ(r.node->member("b")->addr, kNew);
  EXPECT_EQ(r.node->member("b")->state, wire::NodeState::Alive);
  r.advance(1h);  // the old suspicion's timer does not declare the new incarnation dead
  EXPECT_EQ(r.node->member("b")->state, wire::NodeState::Alive);
}

// The old address acks: a second live node claims the name. memberlist's conflict (logged at
// error, ConflictDelegate), nothing moves, and the claim is dropped.
TEST(NameReuse, AnsweredPingIsAConflict) {
  Reuse r;
  r.alive("b", kOld, 3);
  r.ev.seen.clear();
  r.alive("b", kNew, 4);
  auto pings = r.pings();
  ASSERT_EQ(pings.size(), 1u);
  r.node->handle_packet(r.now, {kOld, 7946, ""}, wire::encode(wire::AckResp{pings[0].second.seq_no, std::nullopt}));
  EXPECT_EQ(r.ev.seen, (std::vector<std::string>{"conflict b 10.0.0.2 10.0.0.3"}));
  EXPECT_EQ(r.logger.count(protocol::LogLevel::Error,
                           "memberlist: Conflicting address for b. Mine: 10.0.0.2:7946 Theirs: 10.0.0.3:7946 Old "
                           "state: 0 (the old address answered a ping)"),
            1u)
      << r.logger.dump();
  EXPECT_EQ(r.node->metrics().name_conflicts, 1u);
  EXPECT_EQ(r.node->metrics().name_checks_pending, 0u);
  r.advance(1s);
  EXPECT_EQ(r.node->member("b")->addr, kOld);
  EXPECT_EQ(r.node->member("b")->incarnation, 3u);
  EXPECT_EQ(r.ev.seen.size(), 1u);
  // A later claim is checked again.
  r.alive("b", kNew, 5);
  EXPECT_EQ(r.pings().size(), 1u);
}

// The ping or its ack is lost, but while the check runs the holder refutes from its old address
// (a newer alive from there): it is alive, so the claim is a conflict, not a move.
TEST(NameReuse, ANewerAliveFromTheOldAddressDuringTheCheckIsAnAnswer) {
  Reuse r;
  r.alive("b", kOld, 3);
  r.ev.seen.clear();
  r.alive("b", kNew, 4);
  ASSERT_EQ(r.pings().size(), 1u);
  r.alive("b", kOld, 5);
  r.advance(500ms);
  EXPECT_EQ(r.node->member("b")->addr, kOld);
  EXPECT_EQ(r.ev.seen, (std::vector<std::string>{"conflict b 10.0.0.2 10.0.0.3"}));
  EXPECT_EQ(r.node->metrics().name_conflicts, 1u);
  EXPECT_EQ(r.node->metrics().name_reclaimed, 0u);
}

// At most kMaxNameChecks checks at once: one more claim is refused (no ping), counted and logged;
// when the checks end there is room again.
TEST(NameReuse, PendingChecksAreBounded) {
  Reuse r;
  const size_t max = protocol::Node::kMaxNameChecks;
  auto ip = [](size_t i, uint8_t last) { return Bytes{10, 1, static_cast<uint8_t>(i), last}; };
  for (size_t i = 0; i <= max; ++i) r.alive("n" + std::to_string(i), ip(i, 1), 1);
  (void)r.pings();
  for (size_t i = 0; i < max; ++i) r.alive("n" + std::to_string(i), ip(i, 2), 2);
  EXPECT_EQ(r.pings().size(), max);
  EXPECT_EQ(r.node->metrics().name_checks_pending, max);
  const std::string last = "n" + std::to_string(max);
  r.alive(last, ip(max, 2), 2);
  EXPECT_TRUE(r.pings().empty());
  EXPECT_EQ(r.node->metrics().name_checks_refused, 1u);
  EXPECT_EQ(r.logger.count(protocol::LogLevel::Warn, "memberlist: Conflicting address for " + last + ". Mine: 10.1." +
                                                         std::to_string(max) + ".1:7946 Theirs: 10.1." +
                                                         std::to_string(max) + ".2:7946: not checked, " +
                                                         std::to_string(max) + " checks of old addresses are pending"),
            1u)
      << r.logger.dump();
  EXPECT_EQ(r.node->member(last)->addr, ip(max, 1));
  r.advance(500ms);
  EXPECT_EQ(r.node->metrics().name_reclaimed, max);
  EXPECT_EQ(r.node->metrics().name_checks_pending, 0u);
  r.alive(last, ip(max, 2), 2);  // gossip repeats the claim: now it is checked
  EXPECT_EQ(r.pings().size(), 1u);
}

// After a move, alives from the old address no newer than the incarnation it had there are
// stale news (nodes that have not moved the name yet still gossip and push/pull it): ignored,
// not checked against the new holder. A newer one from there is a claim like any other.
TEST(NameReuse, StaleAlivesFromTheOldAddressAreIgnored) {
  Reuse r;
  r.alive("b", kOld, 5);
  r.alive("b", kNew, 1);
  (void)r.pings();
  r.advance(500ms);
  ASSERT_EQ(r.node->member("b")->addr, kNew);
  r.ev.seen.clear();
  auto said = [&] {  // lines above debug (the push/pull's stream is logged at debug)
    return std::count_if(r.logger.lines.begin(), r.logger.lines.end(),
                         [](const Line &l) { return l.level != protocol::LogLevel::Debug; });
  };
  const auto lines = said();
  r.alive("b", kOld, 5);
  wire::PushPull pp;  // the same through a push/pull
  pp.nodes.push_back(wire::PushNodeState{"b", kOld, 7946, Bytes{}, 4, static_cast<int64_t>(wire::NodeState::Alive),
                                         Bytes{1, 5, 2, 0, 0, 0}});
  r.node->handle_stream(r.now, 1, kPeer, pp);
  EXPECT_TRUE(r.pings().empty());
  EXPECT_EQ(said(), lines) << r.logger.dump();
  EXPECT_TRUE(r.ev.seen.empty());
  EXPECT_EQ(r.node->member("b")->addr, kNew);
  r.alive("b", kOld, 6);
  const auto pings = r.pings();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, kNew);  // the holder now is the new address
}

// Never about ourselves: someone else claiming our name stays a conflict, with no ping.
TEST(NameReuse, OurOwnNameStaysAConflict) {
  Reuse r;
  r.alive("a", kNew, 9);
  EXPECT_TRUE(r.pings().empty());
  EXPECT_EQ(r.node->local_member().addr, (Bytes{10, 0, 0, 1}));
  EXPECT_EQ(r.logger.count(protocol::LogLevel::Error, "memberlist: Conflicting address for a."), 1u) << r.logger.dump();
}

// Off (the default): no check, memberlist's conflict, and the key parses.
TEST(NameReuse, OffByDefault) {
  EXPECT_FALSE(Config::lan().reclaim_name_on_new_address);
  Config c = Config::lan();
  ASSERT_TRUE(protocol::set_property(c, "reclaim_name_on_new_address", "true").ok());
  EXPECT_TRUE(c.reclaim_name_on_new_address);
  EXPECT_EQ(*protocol::get_property(c, "reclaim_name_on_new_address"), "true");
  Reuse r(false);
  r.alive("b", kOld, 3);
  r.alive("b", kNew, 4);
  EXPECT_TRUE(r.pings().empty());
  EXPECT_EQ(r.node->metrics().name_checks, 0u);
  EXPECT_EQ(r.node->member("b")->addr, kOld);
}

// Shutdown drops pending checks: nothing is applied afterwards.
TEST(NameReuse, ShutdownDropsPendingChecks) {
  Reuse r;
  r.alive("b", kOld, 3);
  r.alive("b", kNew, 4);
  EXPECT_EQ(r.node->metrics().name_checks_pending, 1u);
  r.node->shutdown(r.now);
  EXPECT_EQ(r.node->metrics().name_checks_pending, 0u);
  r.advance(1s);
  EXPECT_EQ(r.node->member("b")->addr, kOld);
}
