// SharedKeyring on live hosts (and, at the end, NodeHost's error codes): the keys a program changes reach the running node, two nodes
// cannot share one keyring at once, the keys come back when the host closes, and an operation
// from an answering callback on the loop runs inline instead of deadlocking.
#include "net/shared_keyring.hpp"
#include "net_test_util.hpp"

namespace {

using namespace nettest;
using memberlist::net::SharedKeyring;

wire::Bytes key(uint8_t fill) { return wire::Bytes(16, fill); }

net::HostOptions options(const std::string &name, const std::string &ip, std::shared_ptr<SharedKeyring> ring,
                         protocol::Delegates d = {}) {
  net::HostOptions o;
  o.config = fast_config(name, ip);
  o.keyring = std::move(ring);
  o.delegates = d;
  return o;
}

TEST(SharedKeyring, StandaloneFollowsMemberlistsRules) {
  SharedKeyring r;
  EXPECT_EQ(r.count(), 0u);
  EXPECT_FALSE(r.add(wire::Bytes(5, 1)).ok());  // 16, 24 or 32 bytes
  ASSERT_TRUE(r.add(key(1)).ok());
  ASSERT_TRUE(r.add(key(2)).ok());
  EXPECT_EQ(r.primary(), key(1));  // the first key of an empty ring is the primary
  EXPECT_FALSE(r.remove(key(1)).ok());  // the primary cannot be removed
  ASSERT_TRUE(r.use(key(2)).ok());
  EXPECT_EQ(r.primary(), key(2));
  ASSERT_TRUE(r.remove(key(1)).ok());
  EXPECT_EQ(r.count(), 1u);
  EXPECT_FALSE(r.key(1).has_value());
  EXPECT_FALSE(r.in_use());
}

// Two nodes encrypted with the same key talk; a key added and made primary on both while they run
// is used for their traffic, and the old key can then be removed without losing them.
TEST(SharedKeyring, ChangesReachTheRunningNodeAndReturnAtShutdown) {
  auto ra = std::make_shared<SharedKeyring>(), rb = std::make_shared<SharedKeyring>();
  ASSERT_TRUE(ra->add(key(1)).ok());
  ASSERT_TRUE(rb->add(key(1)).ok());
  auto a = net::NodeHost::create(options("a", "127.0.0.31", ra));
  auto b = net::NodeHost::create(options("b", "127.0.0.32", rb));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(ra->in_use());
  EXPECT_EQ((*a)->keyring(), ra);
  auto cfg = (*a)->config();
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->secret_key, key(1));  // the keyring's primary encrypts from the first packet

  // A second node cannot take a keyring in use.
  auto c = net::NodeHost::create(options("c", "127.0.0.33", ra));
  EXPECT_FALSE(c.ok());

  ASSERT_TRUE((*b)->join({protocol::Endpoint{{127, 0, 0, 31}, (*a)->port(), "a"}}).ok());
  for (auto *r : {ra.get(), rb.get()}) {
    ASSERT_TRUE(r->add(key(2)).ok());
    ASSERT_TRUE(r->use(key(2)).ok());
  }
  for (auto *r : {ra.get(), rb.get()}) ASSERT_TRUE(r->remove(key(1)).ok());
  // Only key 2 is left in both live rings: a push/pull (which a join forces) must still work.
  ASSERT_TRUE((*b)->join({protocol::Endpoint{{127, 0, 0, 31}, (*a)->port(), "a"}}).ok());
  EXPECT_EQ(ra->count(), 1u);
  // The running node really dropped key 1: a node that has only key 1 cannot join it, one with
  // key 2 can.
  for (uint8_t k : {1, 2}) {
    auto r = std::make_shared<SharedKeyring>();
    ASSERT_TRUE(r->add(key(k)).ok());
    auto n = net::NodeHost::create(options("k" + std::to_string(k), "127.0.0.3" + std::to_string(6 + k), r));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ((*n)->join({protocol::Endpoint{{127, 0, 0, 31}, (*a)->port(), "a"}}).ok(), k == 2) << int{k};
  }

  ASSERT_TRUE((*a)->shutdown().ok());
  EXPECT_FALSE(ra->in_use());
  EXPECT_EQ(ra->primary(), key(2));  // the node's keys came back
  ASSERT_TRUE(ra->add(key(3)).ok());  // standalone again
  EXPECT_EQ(ra->count(), 2u);
  // … and a new node may take it.
  auto a2 = net::NodeHost::create(options("a2", "127.0.0.34", ra));
  ASSERT_TRUE(a2.ok()) << a2.error().to_string();
  EXPECT_TRUE(ra->in_use());
}

// A host given no keyring makes one holding the config's secret_key.
TEST(SharedKeyring, AHostWithoutOneMakesItFromTheSecretKey) {
  net::HostOptions o = options("k", "127.0.0.35", nullptr);
  o.config.secret_key = key(7);
  auto h = net::NodeHost::create(std::move(o));
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE((*h)->keyring());
  EXPECT_EQ((*h)->keyring()->primary(), key(7));
  EXPECT_TRUE((*h)->keyring()->in_use());
}

// An answering delegate (node_meta runs on the loop) that changes the keyring: inline, no
// deadlock against the loop it is running on.
struct KeyringMeta final : protocol::Delegate {
  std::shared_ptr<SharedKeyring> ring;
  std::atomic<int> calls{0};
  wire::Bytes node_meta(size_t) override {
    if (ring && calls.fetch_add(1) == 1) (void)ring->add(key(9));  // the call after start()
    return {};
  }
  void notify_msg(wire::ByteView) override {}
  std::vector<wire::Bytes> get_broadcasts(size_t, size_t) override { return {}; }
  wire::Bytes local_state(bool) override { return {}; }
  void merge_remote_state(wire::ByteView, bool) override {}
};

TEST(SharedKeyring, AnOperationFromALoopCallbackRunsInline) {
  auto ring = std::make_shared<SharedKeyring>();
  ASSERT_TRUE(ring->add(key(1)).ok());
  KeyringMeta d;
  d.ring = ring;
  protocol::Delegates ds;
  ds.delegate = &d;
  auto h = net::NodeHost::create(options("m", "127.0.0.39", ring, ds));
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE((*h)->update_node(5s).ok());  // calls node_meta on the loop
  EXPECT_EQ(ring->count(), 2u);
  ASSERT_TRUE((*h)->shutdown().ok());
  EXPECT_EQ(ring->count(), 2u);
}

}  // namespace

// NodeHost says what happened with its own codes (wire/error.hpp), so the C API, Go and Java
// forward them instead of guessing from the host's state.
namespace {
using namespace nettest;

TEST(NodeHostErrors, EachOutcomeHasItsOwnCode) {
  auto a = start_node(fast_config("e1", "127.0.0.40"));
  ASSERT_TRUE(a.host);
  auto &h = *a.host;
  // Join: nobody listens on port 1.
  auto j = h.join({protocol::Endpoint{{127, 0, 0, 41}, 1, "nobody"}});
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, wire::Errc::JoinFailed) << j.error().to_string();
  // Ping: nothing answers in time.
  auto p = h.ping("nobody", protocol::Endpoint{{127, 0, 0, 41}, 1, "nobody"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, wire::Errc::Timeout) << p.error().to_string();
  // External-transport input on a host with its own sockets.
  EXPECT_EQ(h.deliver_packet(protocol::Endpoint{{127, 0, 0, 41}, 1, {}}, {}).error().code, wire::Errc::NotExternal);
  // A blocking call on the loop thread.
  wire::Errc on_loop = wire::Errc::Internal;
  ASSERT_TRUE(h.runtime()->call([&] { on_loop = h.leave(1s).error().code; }).ok());
  EXPECT_EQ(on_loop, wire::Errc::InCallback);
  EXPECT_EQ(h.may_block().ok(), true);
  // A keyring another host uses.
  net::HostOptions o;
  o.config = fast_config("e2", "127.0.0.42");
  o.keyring = h.keyring();
  auto b = net::NodeHost::create(std::move(o));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, wire::Errc::Busy);
  // Everything after shutdown, blocking or not.
  ASSERT_TRUE(h.shutdown().ok());
  EXPECT_EQ(h.may_block().error().code, wire::Errc::Closed);
  EXPECT_EQ(h.leave(1s).error().code, wire::Errc::Closed);
  EXPECT_EQ(h.join({protocol::Endpoint{{127, 0, 0, 41}, 1, "x"}}).error().code, wire::Errc::Closed);
  EXPECT_EQ(h.send_best_effort(protocol::Endpoint{{127, 0, 0, 41}, 1, "x"}, {}).error().code, wire::Errc::Closed);
  EXPECT_EQ(h.queue_broadcast(wire::Bytes{1}).error().code, wire::Errc::Closed);
}
}  // namespace
