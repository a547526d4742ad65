// Tests for core/state/broadcast_queue.hpp: memberlist queue_test.go and broadcast_test.go
// ported, plus invalidation rules, transmit limits, complexity and two-queue fairness.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "state/broadcast_queue.hpp"
#include "state/member_table.hpp"
#include "wire/codec.hpp"
#include "state/util.hpp"

namespace memberlist::state {
namespace {

using wire::Bytes;

// Records finished() calls and message() reads.
struct Log {
  std::vector<std::string> finished;
  mutable long reads = 0;
};

class TestBroadcast : public Broadcast {
 public:
  enum class Kind { Plain, Named, Unique };
  TestBroadcast(Kind kind, std::string id, std::string msg, Log *log, std::string group = {})
      : kind_(kind), id_(std::move(id)), msg_(wire::to_bytes(msg)), log_(log),
        group_(std::move(group)) {}

  wire::ByteView message() const override {
    if (log_) ++log_->reads;
    return msg_;
  }
  void finished() noexcept override {
    if (log_) log_->finished.push_back(id_);
  }
  bool invalidates(const Broadcast &other) const override {
    auto *o = dynamic_cast<const TestBroadcast *>(&other);
    return o != nullptr && !group_.empty() && o->group_ == group_;
  }
  std::optional<std::string_view> name() const override {
    if (kind_ == Kind::Named) return std::string_view(group_);
    return std::nullopt;
  }
  bool unique() const override { return kind_ == Kind::Unique; }

  const std::string &id() const { return id_; }
  Bytes &mutable_msg() { return msg_; }

 private:
  Kind kind_;
  std::string id_;
  Bytes msg_;
  Log *log_;
  std::string group_;
};

std::unique_ptr<Broadcast> mb(std::string node, std::string msg = {},
                              std::function<void()> fin = {}) {
  return std::make_unique<MemberlistBroadcast>(std::move(node), wire::to_bytes(msg),
                                               std::move(fin));
}

std::unique_ptr<TestBroadcast> plain(std::string id, std::string msg, Log *log,
                                     std::string group = {}) {
  return std::make_unique<TestBroadcast>(TestBroadcast::Kind::Plain, std::move(id),
                                         std::move(msg), log, std::move(group));
}
std::unique_ptr<TestBroadcast> named(std::string id, std::string name, std::string msg,
                                     Log *log) {
  return std::make_unique<TestBroadcast>(TestBroadcast::Kind::Named, std::move(id),
                                         std::move(msg), log, std::move(name));
}
std::unique_ptr<TestBroadcast> unique(std::string id, std::string msg, Log *log,
                                      std::string group = {}) {
  return std::make_unique<TestBroadcast>(TestBroadcast::Kind::Unique, std::move(id),
                                         std::move(msg), log, std::move(group));
}

std::string node_of(const TransmitLimitedQueue::Entry &e) {
  return std::string(dynamic_cast<const MemberlistBroadcast *>(e.broadcast)->node());
}
std::string id_of(const TransmitLimitedQueue::Entry &e) {
  return dynamic_cast<const TestBroadcast *>(e.broadcast)->id();
}
std::vector<std::string> strings(const std::vector<Bytes> &msgs) {
  std::vector<std::string> out;
  for (const auto &m : msgs) out.emplace_back(wire::as_string(m));
  return out;
}
// Go's orderedView walks the btree in reverse: lowest priority first.
std::vector<TransmitLimitedQueue::Entry> go_view(const TransmitLimitedQueue &q) {
  auto v = q.ordered_view();
  std::reverse(v.begin(), v.end());
  return v;
}

TEST(Queue, MemberlistBroadcastInvalidates) {
  // broadcast_test.go TestMemberlistBroadcast_Invalidates / _Message.
  MemberlistBroadcast m1("test", {}), m2("foo", {});
  EXPECT_FALSE(m1.invalidates(m2));
  EXPECT_FALSE(m2.invalidates(m1));
  EXPECT_TRUE(m1.invalidates(m1));
  Log log;
  auto other = plain("x", "", &log, "test");
  EXPECT_FALSE(m1.invalidates(*other));
  MemberlistBroadcast m3("test", wire::to_bytes("test"));
  EXPECT_EQ(wire::as_string(m3.message()), "test");
  EXPECT_EQ(m3.name(), std::optional<std::string_view>("test"));
}

TEST(Queue, LessOrdering) {
  // queue_test.go TestLimitedBroadcastLess, through the public ordering: transmits ascending,
  // then length descending, then id descending.
  TransmitLimitedQueue q(1);
  q.queue(mb("a", std::string(10, 'x')), 1);   // id 1: more transmits
  q.queue(mb("b", std::string(10, 'x')), 0);   // id 2
  q.queue(mb("c", std::string(12, 'x')), 0);   // id 3: longer
  q.queue(mb("d", std::string(12, 'x')), 0);   // id 4: longer and newer
  const auto v = q.ordered_view();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(node_of(v[0]), "d");
  EXPECT_EQ(node_of(v[1]), "c");
  EXPECT_EQ(node_of(v[2]), "b");
  EXPECT_EQ(node_of(v[3]), "a");
  EXPECT_EQ(v[0].id, 4);
  EXPECT_EQ(v[0].msg_len, 12);
  EXPECT_EQ(v[3].transmits, 1);
  EXPECT_EQ(q.transmit_range(), (std::pair<int, int>{0, 1}));
}

TEST(Queue, QueueAndNamedInvalidation) {
  // queue_test.go TestTransmitLimited_Queue.
  TransmitLimitedQueue q(1);
  q.queue(mb("test"));
  q.queue(mb("foo"));
  q.queue(mb("bar"));
  EXPECT_EQ(q.num_queued(), 3u);
  auto dump = go_view(q);
  EXPECT_EQ(node_of(dump[0]), "test");
  EXPECT_EQ(node_of(dump[1]), "foo");
  EXPECT_EQ(node_of(dump[2]), "bar");

  q.queue(mb("test"));  // invalidates the previous "test"
  EXPECT_EQ(q.num_queued(), 3u);
  dump = go_view(q);
  EXPECT_EQ(node_of(dump[0]), "foo");
  EXPECT_EQ(node_of(dump[1]), "bar");
  EXPECT_EQ(node_of(dump[2]), "test");
}

TEST(Queue, GetBroadcasts) {
  // queue_test.go TestTransmitLimited_GetBroadcasts.
  TransmitLimitedQueue q(3);
  q.queue(mb("test", "1. this is a test."));  // 18 bytes each
  q.queue(mb("foo", "2. this is a test."));
  q.queue(mb("bar", "3. this is a test."));
  q.queue(mb("baz", "4. this is a test."));
  auto all = q.get_broadcasts(2, 80, 10);  // 4 × (2 + 18) = 80
  EXPECT_EQ(all.messages.size(), 4u);
  EXPECT_EQ(all.bytes_used, 80);
  auto partial = q.get_broadcasts(3, 80, 10);  // 21 each: only 3 fit
  EXPECT_EQ(partial.messages.size(), 3u);
  EXPECT_EQ(partial.bytes_used, 63);
}

TEST(Queue, GetBroadcastsLimit) {
  // queue_test.go TestTransmitLimited_GetBroadcasts_Limit, including the id generator.
  TransmitLimitedQueue q(1);
  EXPECT_EQ(q.id_gen(), 0);
  ASSERT_EQ(retransmit_limit(1, 10), 2);
  std::vector<std::string> finished;
  q.queue(mb("test", "1. this is a test.", [&] { finished.push_back("test"); }));
  q.queue(mb("foo", "2. this is a test.", [&] { finished.push_back("foo"); }));
  q.queue(mb("bar", "3. this is a test.", [&] { finished.push_back("bar"); }));
  q.queue(mb("baz", "4. this is a test.", [&] { finished.push_back("baz"); }));
  EXPECT_EQ(q.id_gen(), 4);

  auto p1 = q.get_broadcasts(3, 80, 10);
  EXPECT_EQ(p1.messages.size(), 3u);
  // Newest first within the tier: ids 4, 3, 2.
  EXPECT_EQ(strings(p1.messages), (std::vector<std::string>{"4. this is a test.",
                                                            "3. this is a test.",
                                                            "2. this is a test."}));
  EXPECT_EQ(q.id_gen(), 4);

  auto p2 = q.get_broadcasts(3, 80, 10);
  EXPECT_EQ(p2.messages.size(), 3u);
  EXPECT_EQ(strings(p2.messages), (std::vector<std::string>{"1. this is a test.",
                                                            "4. this is a test.",
                                                            "3. this is a test."}));
  EXPECT_EQ(q.id_gen(), 4);
  EXPECT_EQ(finished, (std::vector<std::string>{"baz", "bar"}));

  auto p3 = q.get_broadcasts(3, 80, 10);  // only two not expired
  EXPECT_EQ(p3.messages.size(), 2u);
  EXPECT_EQ(q.id_gen(), 0);
  EXPECT_EQ(q.num_queued(), 0u);
  EXPECT_EQ(finished.size(), 4u);

  auto p5 = q.get_broadcasts(3, 80, 10);
  EXPECT_EQ(p5.messages.size(), 0u);
  EXPECT_EQ(p5.bytes_used, 0);
  EXPECT_EQ(q.id_gen(), 0);
}

TEST(Queue, Prune) {
  // queue_test.go TestTransmitLimited_Prune.
  TransmitLimitedQueue q(1);
  int ch1 = 0, ch2 = 0;
  q.queue(mb("test", "1. this is a test.", [&] { ++ch1; }));
  q.queue(mb("foo", "2. this is a test.", [&] { ++ch2; }));
  q.queue(mb("bar", "3. this is a test."));
  q.queue(mb("baz", "4. this is a test."));
  q.prune(2);
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(ch1, 1);
  EXPECT_EQ(ch2, 1);
  const auto dump = go_view(q);
  EXPECT_EQ(node_of(dump[0]), "bar");
  EXPECT_EQ(node_of(dump[1]), "baz");
  q.prune(5);
  EXPECT_EQ(q.num_queued(), 2u);
  q.prune(0);
  EXPECT_EQ(q.num_queued(), 0u);
  EXPECT_EQ(q.id_gen(), 0);
}

TEST(Queue, PruneDropsMostTransmittedFirst) {
  TransmitLimitedQueue q(10);
  Log log;
  q.queue(plain("old-sent", "aaaa", &log), 3);
  q.queue(plain("fresh-short", "a", &log));
  q.queue(plain("fresh-long", "aaaaaaa", &log));
  q.prune(1);
  EXPECT_EQ(log.finished, (std::vector<std::string>{"old-sent", "fresh-short"}));
  EXPECT_EQ(id_of(q.ordered_view()[0]), "fresh-long");
}

TEST(Queue, OrderingByInitialTransmits) {
  // queue_test.go TestTransmitLimited_ordering.
  TransmitLimitedQueue q(1);
  q.queue(mb("node0", "node0"), 0);
  q.queue(mb("node1", "node1"), 10);
  q.queue(mb("node2", "node2"), 3);
  q.queue(mb("node3", "node3"), 4);
  q.queue(mb("node4", "node4"), 7);
  const auto dump = go_view(q);
  ASSERT_EQ(dump.size(), 5u);
  EXPECT_EQ(dump[0].transmits, 10);
  EXPECT_EQ(dump[1].transmits, 7);
  EXPECT_EQ(dump[2].transmits, 4);
  EXPECT_EQ(dump[3].transmits, 3);
  EXPECT_EQ(dump[4].transmits, 0);
}

TEST(Queue, ResetFinishesEverythingInPriorityOrder) {
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("a", "xx", &log), 2);
  q.queue(plain("b", "x", &log));
  q.queue(plain("c", "xxx", &log));
  q.reset();
  EXPECT_EQ(q.num_queued(), 0u);
  EXPECT_EQ(q.id_gen(), 0);
  EXPECT_EQ(log.finished, (std::vector<std::string>{"c", "b", "a"}));
  q.queue(plain("d", "x", &log));
  EXPECT_EQ(q.ordered_view()[0].id, 1);
}

TEST(Queue, PlainInvalidationRules) {
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("p1", "a", &log, "g"));
  q.queue(plain("p2", "b", &log, "h"));
  q.queue(named("n1", "g", "c", &log));
  q.queue(unique("u1", "d", &log, "g"));
  EXPECT_EQ(q.num_queued(), 4u);
  EXPECT_TRUE(log.finished.empty());

  // A plain broadcast of group g drops the plain one of group g only: named and unique entries
  // are never invalidated by plain broadcasts.
  q.queue(plain("p3", "e", &log, "g"));
  EXPECT_EQ(log.finished, (std::vector<std::string>{"p1"}));
  EXPECT_EQ(q.num_queued(), 4u);

  // A unique broadcast invalidates nothing, even when invalidates() would say yes.
  q.queue(unique("u2", "f", &log, "g"));
  EXPECT_EQ(log.finished.size(), 1u);
  EXPECT_EQ(q.num_queued(), 5u);

  // A named broadcast replaces only the entry of the same name, without asking invalidates().
  q.queue(named("n2", "g", "gg", &log));
  EXPECT_EQ(log.finished, (std::vector<std::string>{"p1", "n1"}));
  EXPECT_EQ(q.num_queued(), 5u);
  q.queue(named("n3", "other", "x", &log));
  EXPECT_EQ(q.num_queued(), 6u);
}

TEST(Queue, PlainInvalidatesSeveral) {
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("a", "1", &log, "g"));
  q.queue(plain("b", "22", &log, "g"));
  q.queue(plain("c", "3", &log, "h"));
  q.queue(plain("d", "4", &log, "g"));
  // b dropped a when it was queued, d dropped b; c (another group) stays.
  EXPECT_EQ(log.finished, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.num_queued(), 2u);
  const auto v = q.ordered_view();
  EXPECT_EQ(id_of(v[0]), "d");
  EXPECT_EQ(id_of(v[1]), "c");
}

TEST(Queue, EmptyNamedNameActsPlainWhenQueued) {
  // Go: a NamedBroadcast whose Name() is "" gets no map entry and takes the slow path, where it
  // may invalidate plain entries; other plain broadcasts still skip it (it is a NamedBroadcast).
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("p", "a", &log, ""));
  auto n = named("n", "", "b", &log);
  q.queue(std::move(n));
  EXPECT_EQ(q.num_queued(), 2u);  // its invalidates() says no for an empty group
  q.queue(named("n2", "", "c", &log));
  EXPECT_EQ(q.num_queued(), 3u);  // no replacement by empty name
}

TEST(Queue, NullIsIgnored) {
  TransmitLimitedQueue q(4);
  q.queue(nullptr);
  EXPECT_EQ(q.num_queued(), 0u);
  EXPECT_EQ(q.id_gen(), 0);
}

TEST(Queue, IdsStayUniqueAfterIdleReset) {
  // In Go this sequence loses "a2": replacing "a1" empties the btree, which resets the id
  // counter while "a2" keeps id 2; "c" then also gets id 2 with the same length and transmit
  // count and overwrites "a2" in the btree (queued=2, and "a2" is never sent nor finished).
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(named("a1", "a", "xx", &log));
  q.queue(named("a2", "a", "yy", &log));
  q.queue(named("b", "b", "zz", &log));
  q.queue(named("c", "c", "ww", &log));
  EXPECT_EQ(q.num_queued(), 3u);
  EXPECT_EQ(log.finished, (std::vector<std::string>{"a1"}));
  auto batch = q.get_broadcasts(2, 1000, 10);
  EXPECT_EQ(strings(batch.messages), (std::vector<std::string>{"ww", "zz", "yy"}));
  // Replacing the only entry: the replacement starts a fresh id sequence.
  TransmitLimitedQueue r(4);
  r.queue(named("x1", "x", "1", &log));
  r.queue(named("x2", "x", "2", &log));
  EXPECT_EQ(r.ordered_view()[0].id, 1);
}

TEST(Queue, NoIdCollisionAfterAllTakenAndReinserted) {
  // Go resets its id counter when GetBroadcasts momentarily empties the btree; a new entry then
  // reuses id 1 and can collide with a reinserted one. Here ids keep counting while non-empty.
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("old", "xx", &log));
  EXPECT_EQ(q.get_broadcasts(2, 100, 10).messages.size(), 1u);  // old → transmits 1
  q.queue(plain("new", "yy", &log));
  EXPECT_EQ(q.ordered_view()[0].id, 2);
  // Room for one: "new" (tier 0) goes to tier 1 next to "old"; both must survive.
  EXPECT_EQ(strings(q.get_broadcasts(2, 4, 10).messages), (std::vector<std::string>{"yy"}));
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(strings(q.get_broadcasts(2, 100, 10).messages),
            (std::vector<std::string>{"yy", "xx"}));
}

TEST(Queue, TransmitLimitThenFinished) {
  // LAN: RetransmitMult 4, 10 nodes → each broadcast is sent 8 times in total.
  TransmitLimitedQueue q(4);
  int fin = 0;
  q.queue(mb("n", "hello", [&] { ++fin; }));
  int sends = 0;
  for (int i = 0; i < 20; ++i) {
    auto b = q.get_broadcasts(2, 1400, 10);
    sends += static_cast<int>(b.messages.size());
    if (sends < 8) {
      EXPECT_EQ(fin, 0);
    }
  }
  EXPECT_EQ(sends, 8);
  EXPECT_EQ(fin, 1);
  EXPECT_EQ(q.num_queued(), 0u);
}

// A named entry that was sent and re-queued (its transmit count bumped) is still found by
// name: a newer broadcast for the name replaces it, and one that reached its limit frees the
// name for the next.
TEST(Queue, NameStillInvalidatesAfterTransmits) {
  Log log;
  TransmitLimitedQueue q(1);  // 10 nodes: limit 2
  q.queue(named("a1", "a", "first a", &log));
  q.queue(named("b1", "b", "first b", &log));
  EXPECT_EQ(q.get_broadcasts(2, 1400, 10).messages.size(), 2u);  // both sent once, re-queued
  EXPECT_TRUE(log.finished.empty());
  q.queue(named("a2", "a", "second a", &log));
  EXPECT_EQ(log.finished, std::vector<std::string>{"a1"});
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(q.get_broadcasts(2, 1400, 10).messages.size(), 2u);  // b1 reaches its limit
  EXPECT_EQ(log.finished, (std::vector<std::string>{"a1", "b1"}));
  q.queue(named("b2", "b", "second b", &log));
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(log.finished.size(), 2u);  // b2 replaced nothing
  q.queue(named("a3", "a", "third a", &log));
  EXPECT_EQ(log.finished, (std::vector<std::string>{"a1", "b1", "a2"}));
}

TEST(Queue, ZeroRetransmitLimitSendsOnce) {
  // num_nodes 0 → limit 0; Go still sends it once (transmits + 1 ≥ 0) and finishes it.
  TransmitLimitedQueue q(4);
  int fin = 0;
  q.queue(mb("n", "x", [&] { ++fin; }));
  EXPECT_EQ(q.get_broadcasts(2, 100, 0).messages.size(), 1u);
  EXPECT_EQ(fin, 1);
  EXPECT_EQ(q.num_queued(), 0u);
}

TEST(Queue, LargestFittingFirstAndSkipping) {
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("s5", "55555", &log));
  q.queue(plain("s9", "999999999", &log));
  q.queue(plain("s3", "333", &log));
  q.queue(plain("s7", "7777777", &log));
  // Budget 14, overhead 1: 9 (cost 10), then 7 does not fit (free 3), 5 neither, 3 does (cost 4).
  auto b = q.get_broadcasts(1, 14, 10);
  EXPECT_EQ(strings(b.messages), (std::vector<std::string>{"999999999", "333"}));
  EXPECT_EQ(b.bytes_used, 14);
  // Next round: tier 0 first (7 then 5), then tier 1 with what is left.
  b = q.get_broadcasts(1, 20, 10);
  EXPECT_EQ(strings(b.messages), (std::vector<std::string>{"7777777", "55555", "333"}));
  EXPECT_EQ(b.bytes_used, 8 + 6 + 4);
}

TEST(Queue, TinyOrNegativeBudgets) {
  TransmitLimitedQueue q(4);
  Log log;
  q.queue(plain("a", "abc", &log));
  EXPECT_TRUE(q.get_broadcasts(2, 2, 10).messages.empty());
  EXPECT_TRUE(q.get_broadcasts(2, -100, 10).messages.empty());
  EXPECT_TRUE(q.get_broadcasts(2, 4, 10).messages.empty());  // free 2 < 3
  EXPECT_EQ(q.get_broadcasts(2, 5, 10).messages.size(), 1u);
  EXPECT_EQ(q.get_broadcasts(0, 3, 10).messages.size(), 1u);
}

TEST(Queue, GrownMessageIsSkipped) {
  TransmitLimitedQueue q(4);
  Log log;
  auto b = plain("g", "ab", &log);
  auto *raw = b.get();
  q.queue(std::move(b));
  q.queue(plain("h", "c", &log));
  raw->mutable_msg() = wire::to_bytes("abcdefgh");  // recorded length stays 2
  auto out = q.get_broadcasts(0, 4, 10);
  EXPECT_EQ(strings(out.messages), (std::vector<std::string>{"c"}));
  out = q.get_broadcasts(0, 100, 10);
  EXPECT_EQ(strings(out.messages), (std::vector<std::string>{"abcdefgh", "c"}));
  EXPECT_EQ(out.bytes_used, 9);
}

TEST(Queue, PeekMatchesAndDoesNotMutate) {
  TransmitLimitedQueue q(4);
  Log log;
  for (int i = 0; i < 50; ++i) q.queue(plain("p" + std::to_string(i), std::string(7 + i % 13, 'x'), &log));
  const auto before = q.ordered_view();
  const auto peek = q.peek_bytes(2, 300);
  const auto after = q.ordered_view();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].id, after[i].id);
    EXPECT_EQ(before[i].transmits, after[i].transmits);
  }
  EXPECT_EQ(q.get_broadcasts(2, 300, 10).bytes_used, peek);
  EXPECT_LE(peek, 300);
  EXPECT_GT(peek, 280);
  EXPECT_TRUE(log.finished.empty());
}

TEST(Queue, FinishedMayReenterTheQueue) {
  TransmitLimitedQueue q(1);  // limit with 1 node: 1 send
  int rounds = 0;
  std::function<void()> requeue = [&] {
    if (++rounds < 3) q.queue(mb("n", "again", requeue));
  };
  q.queue(mb("n", "first", requeue));
  EXPECT_EQ(strings(q.get_broadcasts(2, 100, 1).messages), (std::vector<std::string>{"first"}));
  EXPECT_EQ(q.num_queued(), 1u);
  EXPECT_EQ(strings(q.get_broadcasts(2, 100, 1).messages), (std::vector<std::string>{"again"}));
  // Invalidation path: the finished() of the replaced entry queues yet another one.
  q.queue(mb("n", "third", requeue));
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(q.num_queued(), 1u);
}

TEST(Queue, FinishedExactlyOnce) {
  // Every broadcast ends with exactly one finished(): invalidated, expired, pruned or reset.
  TransmitLimitedQueue q(2);
  Log log;
  Rng rng(77);
  int made = 0;
  for (int step = 0; step < 3000; ++step) {
    switch (rng.below(6)) {
      case 0:
      case 1:
        q.queue(named("n" + std::to_string(made++), "k" + std::to_string(rng.below(20)),
                      std::string(1 + rng.below(40), 'x'), &log));
        break;
      case 2:
        q.queue(plain("n" + std::to_string(made++), std::string(1 + rng.below(40), 'y'), &log,
                      "g" + std::to_string(rng.below(5))));
        break;
      case 3:
        q.queue(unique("n" + std::to_string(made++), std::string(1 + rng.below(40), 'z'), &log));
        break;
      case 4:
        (void)q.get_broadcasts(2, static_cast<std::int64_t>(rng.below(300)), rng.below(30));
        break;
      default:
        if (rng.below(10) == 0) q.prune(rng.below(30));
        break;
    }
  }
  q.reset();
  std::sort(log.finished.begin(), log.finished.end());
  EXPECT_EQ(std::adjacent_find(log.finished.begin(), log.finished.end()), log.finished.end());
  EXPECT_EQ(static_cast<int>(log.finished.size()), made);
}

TEST(Queue, GetBroadcastsIsNotLinearInQueueSize) {
  TransmitLimitedQueue q(4);
  Log log;
  // 20,000 entries too large to fit, spread over tiers, plus a few small ones.
  for (int i = 0; i < 20000; ++i) q.queue(unique("big", std::string(1500, 'b'), &log), i % 8);
  for (int i = 0; i < 5; ++i) q.queue(unique("small", "s", &log), 3);
  log.reads = 0;
  auto b = q.get_broadcasts(2, 1400, 100);
  EXPECT_EQ(b.messages.size(), 5u);
  EXPECT_LT(log.reads, 100);

  // A long tier of equal messages: each pick resumes after the previous one.
  TransmitLimitedQueue e(4);
  for (int i = 0; i < 5000; ++i) e.queue(unique("eq", "0123456789", &log));
  log.reads = 0;
  auto eb = e.get_broadcasts(2, 1400, 100);
  EXPECT_EQ(eb.messages.size(), 116u);  // 1400 / 12
  EXPECT_LT(log.reads, 4 * 116);
}

TEST(Queue, FairnessWithAFlood) {
  // The system queue is flooded; user broadcasts must still go out when the budget is split.
  TransmitLimitedQueue sys(4), user(4);
  Log log;
  for (int i = 0; i < 2000; ++i) {
    sys.queue(mb("node" + std::to_string(i), std::string(60, 's')));
  }
  for (int i = 0; i < 3; ++i) user.queue(unique("u" + std::to_string(i), std::string(50, 'u'), &log));

  constexpr std::int64_t kLimit = 1400 - 2, kOverhead = 2;
  // memberlist's order (no share): the flood takes every packet, user broadcasts never go out.
  {
    TransmitLimitedQueue sys2(4), user2(4);
    for (int i = 0; i < 2000; ++i) sys2.queue(mb("node" + std::to_string(i), std::string(60, 's')));
    user2.queue(unique("u", std::string(50, 'u'), nullptr));
    for (int round = 0; round < 50; ++round) {
      auto b = get_broadcasts_shared(sys2, kOverhead, 2001, user2, kOverhead + 1, 2001, kLimit, 0);
      EXPECT_TRUE(b.second.empty()) << round;
      EXPECT_FALSE(b.first.empty());
    }
  }
  // With 300 bytes reserved for user broadcasts: they go out in the first packet, and the flood
  // still uses the rest.
  auto b = get_broadcasts_shared(sys, kOverhead, 2001, user, kOverhead + 1, 2001, kLimit, 300);
  EXPECT_EQ(b.second.size(), 3u);  // 3 × 53 = 159 ≤ 300
  EXPECT_EQ(b.first.size(), static_cast<std::size_t>((kLimit - 159) / 62));
  EXPECT_LE(b.bytes_used, kLimit);
  EXPECT_GT(b.bytes_used, kLimit - 62);
  // When the user queue is empty, the system queue gets the whole packet.
  for (int i = 0; i < 20; ++i) (void)user.get_broadcasts(3, kLimit, 2001);
  ASSERT_TRUE(user.empty());
  b = get_broadcasts_shared(sys, kOverhead, 2001, user, kOverhead + 1, 2001, kLimit, 300);
  EXPECT_TRUE(b.second.empty());
  EXPECT_EQ(b.first.size(), static_cast<std::size_t>(kLimit / 62));
  // A user flood cannot starve the system queue either: it gets everything not reserved.
  TransmitLimitedQueue sys3(4), user3(4);
  for (int i = 0; i < 1000; ++i) user3.queue(unique("u", std::string(50, 'u'), nullptr));
  sys3.queue(mb("alive", std::string(80, 'a')));
  b = get_broadcasts_shared(sys3, kOverhead, 10, user3, kOverhead + 1, 10, kLimit, 300);
  EXPECT_EQ(b.first.size(), 1u);
  EXPECT_EQ(b.second.size(), static_cast<std::size_t>((kLimit - 82) / 53));
}

TEST(Queue, SharedNeverDuplicatesAMessage) {
  TransmitLimitedQueue a(4), b(4);
  for (int i = 0; i < 10; ++i) a.queue(mb("a" + std::to_string(i), "A" + std::to_string(i)));
  for (int i = 0; i < 10; ++i) b.queue(mb("b" + std::to_string(i), "B" + std::to_string(i)));
  for (std::int64_t share : {0, 10, 50, 1000}) {
    auto out = get_broadcasts_shared(a, 2, 10, b, 3, 10, 1000, share);
    auto s1 = strings(out.first), s2 = strings(out.second);
    std::sort(s1.begin(), s1.end());
    std::sort(s2.begin(), s2.end());
    EXPECT_EQ(std::adjacent_find(s1.begin(), s1.end()), s1.end());
    EXPECT_EQ(std::adjacent_find(s2.begin(), s2.end()), s2.end());
    EXPECT_EQ(s1.size(), 10u);
    EXPECT_EQ(s2.size(), 10u);
  }
}


// ---------------------------------------------------------------- member alives by reference

using namespace std::chrono_literals;
const TimePoint kNow = TimePoint{} + 100h;

Member alive_member(std::string name, std::uint32_t inc = 1) {
  Member m(name);
  m.incarnation = inc;
  const Bytes addr{10, 0, 0, 1};
  m.set_addr(wire::ByteView(addr));
  m.port = 7946;
  m.vsn = {1, 5, 2, 2, 5, 4};
  m.state = NodeState::Alive;
  return m;
}

Bytes encoded(const Member &m) { return wire::encode(alive_of(m)); }

TEST(QueueMemberAlive, EncodedFromTheEntryWhenSent) {
  MemberTable t("self");
  Rng rng(1);
  Member &a = t.insert(alive_member("a"), rng).first;
  TransmitLimitedQueue q(1);
  const Bytes msg = encoded(a);
  ASSERT_TRUE(q.queue_member_alive(a, msg.size()));
  EXPECT_EQ(q.num_queued(), 1u);
  EXPECT_EQ(q.num_member_alives(), 1u);
  const auto v = q.ordered_view();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].member, &a);
  EXPECT_EQ(v[0].broadcast, nullptr);
  EXPECT_EQ(v[0].msg_len, static_cast<std::int64_t>(msg.size()));
  // Sent as the bytes the entry encodes to, and counted like any other message.
  const auto b = q.get_broadcasts(2, 1400, 1);  // retransmit limit 1: sent once, then gone
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_EQ(b.messages[0], msg);
  EXPECT_EQ(b.bytes_used, static_cast<std::int64_t>(2 + msg.size()));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.num_member_alives(), 0u);
  EXPECT_EQ(q.stale_dropped(), 0u);
}

TEST(QueueMemberAlive, ReplacesAndIsReplacedByName) {
  MemberTable t("self");
  Rng rng(2);
  Member &a = t.insert(alive_member("a"), rng).first;
  TransmitLimitedQueue q(4);
  int finished = 0;
  q.queue(mb("a", "older alive", [&] { ++finished; }));
  q.queue(mb("b", "about b"));
  ASSERT_TRUE(q.queue_member_alive(a, encoded(a).size()));
  EXPECT_EQ(finished, 1) << "the queued broadcast of the same name is finished";
  EXPECT_EQ(q.num_queued(), 2u);
  // A newer broadcast about "a" (a suspect, say) replaces the reference.
  q.queue(mb("a", "suspect a"));
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(q.num_member_alives(), 0u);
  for (const auto &e : q.ordered_view()) EXPECT_EQ(e.member, nullptr);
  // And a second reference to the same entry replaces the first.
  ASSERT_TRUE(q.queue_member_alive(a, encoded(a).size()));
  ASSERT_TRUE(q.queue_member_alive(a, encoded(a).size()));
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(q.num_member_alives(), 1u);
  // An unnamed entry cannot be indexed: refused, the caller queues a copy.
  Member &nameless = t.insert(alive_member(""), rng).first;
  EXPECT_FALSE(q.queue_member_alive(nameless, 10));
  EXPECT_EQ(q.num_queued(), 2u);
}

TEST(QueueMemberAlive, AChangedEntryIsDroppedAndCountedNotSent) {
  MemberTable t("self");
  Rng rng(3);
  Member &a = t.insert(alive_member("a"), rng).first;
  Member &b = t.insert(alive_member("b"), rng).first;
  TransmitLimitedQueue q(4);
  ASSERT_TRUE(q.queue_member_alive(a, encoded(a).size()));
  ASSERT_TRUE(q.queue_member_alive(b, encoded(b).size()));
  // Changes the protocol never makes without a new broadcast: a state that is not Alive, and
  // metadata that changes the length.
  a.state = NodeState::Suspect;
  const Bytes meta{1, 2, 3};
  b.set_meta(wire::ByteView(meta));
  const auto out = q.get_broadcasts(2, 1400, 10);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(q.stale_dropped(), 2u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.num_member_alives(), 0u);
}

TEST(QueueMemberAlive, ReapHookForgetsTheReferenceBeforeTheEntryGoes) {
  MemberTable t("self");
  Rng rng(4);
  TransmitLimitedQueue q(4);
  t.set_reap_hook([&q](const Member &m) { q.forget_member(m); });
  Member &gone = t.insert(alive_member("gone"), rng).first;
  Member &stays = t.insert(alive_member("stays"), rng).first;
  ASSERT_TRUE(q.queue_member_alive(gone, encoded(gone).size()));
  ASSERT_TRUE(q.queue_member_alive(stays, encoded(stays).size()));
  q.queue(mb("other", "x"));
  gone.set_state(NodeState::Dead, kNow - 1h);
  const auto removed = t.reap_and_shuffle(kNow, 15s, rng);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(q.num_queued(), 2u);
  EXPECT_EQ(q.num_member_alives(), 1u);
  for (const auto &e : q.ordered_view()) EXPECT_NE(e.member, &gone);
  // A named copy about the same name is not a reference: forget_member leaves it.
  q.queue(mb("stays", "copy"));
  q.forget_member(stays);
  EXPECT_EQ(q.num_queued(), 2u);
  // The slot is reused by the next insert; nothing in the queue points at it any more.
  Member &next = t.insert(alive_member("next"), rng).first;
  const auto out = q.get_broadcasts(2, 1400, 10);
  EXPECT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(q.stale_dropped(), 0u);
  (void)next;
}

}  // namespace
}  // namespace memberlist::state
