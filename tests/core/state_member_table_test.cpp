// Tests for core/state/member_table.hpp: the probe list, random insertion, the probe walk,
// reaping (memberlist util_test.go TestMoveDeadNodes), counts and random selection.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "state/member_table.hpp"

namespace memberlist::state {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = TimePoint(1000h);

Member member(std::string name, NodeState st = NodeState::Alive, TimePoint changed = kNow) {
  Member m(name);
  const wire::Bytes lo{127, 0, 0, 1};
  m.set_addr(wire::ByteView(lo));
  m.port = 7946;
  m.state = st;
  m.state_change = changed;
  return m;
}

std::vector<std::string> names(const MemberTable &t) {
  std::vector<std::string> out;
  for (const Member &m : t.members()) out.push_back(m.name_str());
  return out;
}

TEST(MemberTable, InsertAndFind) {
  MemberTable t("self");
  Rng rng(1);
  EXPECT_EQ(t.local_name(), "self");
  EXPECT_EQ(t.local(), nullptr);
  auto [self, added] = t.insert(member("self"), rng);
  EXPECT_TRUE(added);
  EXPECT_EQ(t.local(), &self);
  auto [a, added_a] = t.insert(member("a"), rng);
  EXPECT_TRUE(added_a);
  a.incarnation = 5;
  EXPECT_EQ(t.find("a")->incarnation, 5u);
  EXPECT_TRUE(t.contains("a"));
  EXPECT_FALSE(t.contains("b"));
  EXPECT_EQ(t.find("b"), nullptr);

  // A known name is not replaced.
  Member again = member("a");
  again.incarnation = 9;
  auto [same, added_again] = t.insert(std::move(again), rng);
  EXPECT_FALSE(added_again);
  EXPECT_EQ(&same, &a);
  EXPECT_EQ(same.incarnation, 5u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.estimated_nodes(), 2u);

  const MemberTable &ct = t;
  EXPECT_EQ(ct.find("a"), &a);
  EXPECT_EQ(ct.local(), &self);
}

TEST(MemberTable, AddressesKeptVerbatim) {
  MemberTable t("self");
  Rng rng(1);
  Member m = member("v6");
  const wire::Bytes v6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  m.set_addr(wire::ByteView(v6));
  m.set_meta(wire::ByteView{});
  t.insert(std::move(m), rng);
  EXPECT_EQ(t.find("v6")->addr().size(), 16u);
  EXPECT_TRUE(std::equal(v6.begin(), v6.end(), t.find("v6")->addr().begin()));
  EXPECT_TRUE(t.find("v6")->has_meta());
  EXPECT_TRUE(t.find("v6")->meta().empty());
}

TEST(MemberTable, Vsn) {
  Member m = member("x");
  const wire::Bytes five{1, 5, 2, 0, 0};
  m.set_vsn(five);
  EXPECT_EQ(m.pmax(), 0);  // memberlist needs more than 5 bytes
  const wire::Bytes six{1, 5, 2, 3, 4, 5, 99};
  m.set_vsn(six);
  EXPECT_EQ(m.pmin(), 1);
  EXPECT_EQ(m.pmax(), 5);
  EXPECT_EQ(m.pcur(), 2);
  EXPECT_EQ(m.dmin(), 3);
  EXPECT_EQ(m.dmax(), 4);
  EXPECT_EQ(m.dcur(), 5);
  EXPECT_STREQ(node_state_name(NodeState::Left), "left");
  EXPECT_STREQ(node_state_name(NodeState::Suspect), "suspect");
}

TEST(MemberTable, InsertSwapsWithRandomOffset) {
  // memberlist appends, then swaps with position randomOffset(old size): the displaced entry
  // goes to the end.
  MemberTable t("self");
  Rng rng(12345);
  for (int i = 0; i < 10; ++i) t.insert(member("n" + std::to_string(i)), rng);
  const auto before = names(t);
  Rng predict = rng;
  const std::size_t off = random_offset(before.size(), predict);
  t.insert(member("new"), rng);
  const auto after = names(t);
  ASSERT_EQ(after.size(), 11u);
  EXPECT_EQ(after[off], "new");
  EXPECT_EQ(after[10], before[off]);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i != off) {
      EXPECT_EQ(after[i], before[i]);
    }
  }
}

TEST(MemberTable, InsertPositionIsSpread) {
  std::map<std::size_t, int> where;
  for (std::uint64_t seed = 0; seed < 800; ++seed) {
    MemberTable t("self");
    Rng rng(seed);
    for (int i = 0; i < 4; ++i) t.insert(member("n" + std::to_string(i)), rng);
    t.insert(member("new"), rng);
    const auto v = names(t);
    ++where[static_cast<std::size_t>(std::find(v.begin(), v.end(), "new") - v.begin())];
  }
  // Positions 0..3 (never the end, as in memberlist).
  EXPECT_EQ(where.size(), 4u);
  EXPECT_EQ(where.count(4), 0u);
  for (const auto &[pos, c] : where) EXPECT_GT(c, 120) << pos;
}

TEST(MemberTable, CountsAsNumMembers) {
  MemberTable t("self");
  Rng rng(2);
  t.insert(member("self"), rng);
  t.insert(member("a", NodeState::Alive), rng);
  t.insert(member("s", NodeState::Suspect), rng);
  t.insert(member("d", NodeState::Dead), rng);
  t.insert(member("l", NodeState::Left), rng);
  EXPECT_EQ(t.estimated_nodes(), 5u);
  EXPECT_EQ(t.num_members(), 3u);  // self, a, s
  EXPECT_EQ(t.num_alive(), 3u);
  EXPECT_EQ(t.count(NodeState::Alive), 2u);
  EXPECT_EQ(t.count(NodeState::Suspect), 1u);
  EXPECT_EQ(t.count(NodeState::Dead), 1u);
  EXPECT_EQ(t.count(NodeState::Left), 1u);
  t.find("s")->set_state(NodeState::Dead, kNow + 1s);
  EXPECT_EQ(t.num_members(), 2u);
  EXPECT_EQ(t.find("s")->state_change, kNow + 1s);
}

TEST(MemberTable, ReapGoMoveDeadNodes) {
  // util_test.go TestMoveDeadNodes: GossipToTheDeadTime 15 s; entries changed 20 s ago are
  // reaped if Dead or Left, those changed 10 s ago stay.
  MemberTable t("self");
  Rng rng(3);
  const TimePoint old = kNow - 20s, recent = kNow - 10s;
  const std::vector<std::pair<NodeState, TimePoint>> spec = {
      {NodeState::Dead, old},  {NodeState::Alive, old}, {NodeState::Dead, recent},
      {NodeState::Left, recent}, {NodeState::Left, old}, {NodeState::Alive, old},
      {NodeState::Dead, old},  {NodeState::Alive, old}, {NodeState::Left, old},
  };
  for (std::size_t i = 0; i < spec.size(); ++i) {
    t.insert(member("n" + std::to_string(i), spec[i].first, spec[i].second), rng);
  }
  Member *keep = t.find("n2");
  const auto removed = t.reap_and_shuffle(kNow, 15s, rng);
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.estimated_nodes(), 5u);
  std::set<std::string> gone;
  for (const auto &m : removed) gone.insert(m.name_str());
  EXPECT_EQ(gone, (std::set<std::string>{"n0", "n4", "n6", "n8"}));
  for (const auto &n : gone) EXPECT_FALSE(t.contains(n));
  std::set<std::string> left;
  for (const Member &m : t.members()) left.insert(m.name_str());
  EXPECT_EQ(left, (std::set<std::string>{"n1", "n2", "n3", "n5", "n7"}));
  EXPECT_EQ(t.count(NodeState::Alive), 3u);
  EXPECT_EQ(t.find("n2"), keep);  // records do not move in memory
  // A reaped name can come back as a new node.
  EXPECT_TRUE(t.insert(member("n0"), rng).second);
}

TEST(MemberTable, ReapBoundaryIsStrict) {
  MemberTable t("self");
  Rng rng(4);
  t.insert(member("exact", NodeState::Dead, kNow - 15s), rng);
  t.insert(member("over", NodeState::Left, kNow - 15s - 1ns), rng);
  t.insert(member("suspect", NodeState::Suspect, kNow - 1h), rng);
  const auto removed = t.reap_and_shuffle(kNow, 15s, rng);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].name_str(), "over");
  EXPECT_EQ(names(t).size(), 2u);
}

TEST(MemberTable, ShuffleChangesOrderKeepsLookups) {
  MemberTable t("self");
  Rng rng(5);
  for (int i = 0; i < 20; ++i) t.insert(member("n" + std::to_string(i)), rng);
  const auto before = names(t);
  Member *p = t.find("n7");
  t.shuffle(rng);
  const auto after = names(t);
  EXPECT_NE(before, after);
  EXPECT_EQ(std::set<std::string>(before.begin(), before.end()),
            std::set<std::string>(after.begin(), after.end()));
  EXPECT_EQ(t.find("n7"), p);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.find(t.at(i).name()), &t.at(i));
}

TEST(MemberTable, ProbeWalkRoundRobinSkipsSelfAndDead) {
  MemberTable t("self");
  Rng rng(6);
  t.insert(member("self"), rng);
  t.insert(member("a"), rng);
  t.insert(member("b", NodeState::Suspect), rng);
  t.insert(member("d", NodeState::Dead, kNow), rng);
  t.insert(member("l", NodeState::Left, kNow), rng);
  t.insert(member("c"), rng);
  // The first pass follows list order; every probe-able node once per pass.
  std::vector<std::string> expected;
  for (const Member &m : t.members()) {
    if (m.name_str() != "self" && !m.dead_or_left()) expected.push_back(m.name_str());
  }
  std::vector<std::string> got;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto step = t.next_probe(kNow, 30s, rng);
    ASSERT_NE(step.target, nullptr);
    got.push_back(step.target->name_str());
  }
  EXPECT_EQ(got, expected);
  // Later passes (delimited by wrap-arounds, each reshuffling): every pass probes a, b and c
  // exactly once. A tick may probe nobody (see ProbeTickCanMissLikeMemberlist).
  std::multiset<std::string> pass(got.begin(), got.end());  // the first pass so far
  int complete = 0;
  for (int tick = 0; tick < 200; ++tick) {
    auto step = t.next_probe(kNow, 30s, rng);
    if (step.wrapped) {
      EXPECT_EQ(pass, (std::multiset<std::string>{"a", "b", "c"})) << "tick " << tick;
      pass.clear();
      ++complete;
    }
    if (step.target != nullptr) pass.insert(step.target->name_str());
  }
  EXPECT_GT(complete, 40);
  EXPECT_EQ(t.size(), 6u);  // nothing old enough to reap
}

TEST(MemberTable, ProbeWrapReaps) {
  MemberTable t("self");
  Rng rng(7);
  t.insert(member("self"), rng);
  t.insert(member("a"), rng);
  t.insert(member("dead", NodeState::Dead, kNow - 1min), rng);
  // Walk until the wrap; only "a" is ever probed.
  bool wrapped = false;
  std::vector<Member> reaped;
  for (int i = 0; i < 4 && !wrapped; ++i) {
    auto step = t.next_probe(kNow, 30s, rng);
    if (step.target != nullptr) {
      EXPECT_EQ(step.target->name_str(), "a");
    }
    wrapped = step.wrapped;
    reaped = std::move(step.reaped);
  }
  ASSERT_TRUE(wrapped);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].name_str(), "dead");
  EXPECT_FALSE(t.contains("dead"));
  EXPECT_EQ(t.size(), 2u);
}

TEST(MemberTable, ProbeTickCanMissLikeMemberlist) {
  // memberlist's probe() counts every skipped position and the wrap itself against the list
  // length. With the list [a, self, dead(expired)] and the index after "a": skip self (1), skip
  // dead (2), wrap and reap (3 ≥ new length 2) → no probe this tick although "a" is probe-able.
  MemberTable t("self");
  Rng rng(1);
  t.insert(member("a"), rng);
  t.insert(member("self"), rng);
  t.insert(member("dead", NodeState::Dead, kNow - 1min), rng);
  const std::vector<std::string> want{"a", "self", "dead"};
  for (int i = 0; i < 200 && names(t) != want; ++i) t.shuffle(rng);
  ASSERT_EQ(names(t), want);
  auto step = t.next_probe(kNow, 30s, rng);
  ASSERT_NE(step.target, nullptr);
  EXPECT_EQ(step.target->name_str(), "a");
  step = t.next_probe(kNow, 30s, rng);
  EXPECT_EQ(step.target, nullptr);
  EXPECT_TRUE(step.wrapped);
  ASSERT_EQ(step.reaped.size(), 1u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.probe_index(), 0u);
  step = t.next_probe(kNow, 30s, rng);  // the next tick finds "a" again
  ASSERT_NE(step.target, nullptr);
  EXPECT_EQ(step.target->name_str(), "a");
}

TEST(MemberTable, ProbeNothingToProbe) {
  Rng rng(8);
  MemberTable empty("self");
  auto step = empty.next_probe(kNow, 30s, rng);
  EXPECT_EQ(step.target, nullptr);
  EXPECT_FALSE(step.wrapped);  // memberlist returns before resetting an empty list

  MemberTable alone("self");
  alone.insert(member("self"), rng);
  alone.insert(member("d", NodeState::Dead, kNow), rng);
  alone.insert(member("l", NodeState::Left, kNow), rng);
  for (int i = 0; i < 5; ++i) {
    step = alone.next_probe(kNow, 30s, rng);
    EXPECT_EQ(step.target, nullptr);
  }
  EXPECT_EQ(alone.size(), 3u);
  // Once they are old enough, a wrap reaps them and the list shrinks to ourselves.
  step = alone.next_probe(kNow + 1h, 30s, rng);
  EXPECT_EQ(step.target, nullptr);
  EXPECT_EQ(alone.size(), 1u);
  EXPECT_EQ(step.reaped.size(), 2u);
}

TEST(MemberTable, ProbeIndexAccessors) {
  MemberTable t("self");
  Rng rng(9);
  t.insert(member("a"), rng);
  t.insert(member("b"), rng);
  EXPECT_EQ(t.probe_index(), 0u);
  auto step = t.next_probe(kNow, 30s, rng);
  EXPECT_EQ(step.target, &t.at(0));
  EXPECT_EQ(t.probe_index(), 1u);
  t.set_probe_index(1);
  step = t.next_probe(kNow, 30s, rng);
  EXPECT_EQ(step.target, &t.at(1));
}

TEST(MemberTable, KRandomMembers) {
  // kRandomNodes over the table, with memberlist's gossip filter: Alive/Suspect, or Dead within
  // GossipToTheDeadTime; never ourselves or Left.
  MemberTable t("self");
  Rng rng(10);
  t.insert(member("self"), rng);
  for (int i = 0; i < 30; ++i) {
    const NodeState st = static_cast<NodeState>(i % 4);
    t.insert(member("n" + std::to_string(i), st, i < 16 ? kNow - 5s : kNow - 1min), rng);
  }
  auto gossip_excluded = [&](const Member &m) {
    if (m.name_str() == t.local_name()) return true;
    switch (m.state) {
      case NodeState::Alive:
      case NodeState::Suspect: return false;
      case NodeState::Dead: return kNow - m.state_change > 30s;
      default: return true;
    }
  };
  for (int round = 0; round < 100; ++round) {
    auto picks = t.k_random_members(3, rng, gossip_excluded);
    ASSERT_EQ(picks.size(), 3u);
    std::set<Member *> uniq(picks.begin(), picks.end());
    EXPECT_EQ(uniq.size(), 3u);
    for (Member *m : picks) EXPECT_FALSE(gossip_excluded(*m)) << m->name_str();
  }
  // Convenience form: Alive only, minus a named target (indirect probe relays).
  for (int round = 0; round < 100; ++round) {
    auto picks = t.k_random_members(3, rng, {NodeState::Alive}, {"n0", "n4"});
    ASSERT_EQ(picks.size(), 3u);
    for (Member *m : picks) {
      EXPECT_EQ(m->state, NodeState::Alive);
      EXPECT_NE(m->name_str(), "self");
      EXPECT_NE(m->name_str(), "n0");
      EXPECT_NE(m->name_str(), "n4");
    }
  }
  // Small table: exhaustive. Only "a" qualifies.
  MemberTable s("self");
  s.insert(member("self"), rng);
  s.insert(member("a"), rng);
  s.insert(member("b", NodeState::Dead), rng);
  auto picks = s.k_random_members(3, rng, {NodeState::Alive});
  ASSERT_EQ(picks.size(), 1u);
  EXPECT_EQ(picks[0]->name_str(), "a");
  EXPECT_TRUE(s.k_random_members(0, rng, {NodeState::Alive}).empty());
}

TEST(MemberTable, SeedReproducesEverything) {
  auto run = [](std::uint64_t seed) {
    MemberTable t("self");
    Rng rng(seed);
    t.insert(member("self"), rng);
    for (int i = 0; i < 50; ++i) {
      t.insert(member("n" + std::to_string(i), i % 7 == 0 ? NodeState::Dead : NodeState::Alive,
                      kNow - 1h),
               rng);
    }
    std::vector<std::string> order;
    for (int i = 0; i < 120; ++i) {
      auto step = t.next_probe(kNow, 30s, rng);
      order.push_back(step.target ? step.target->name_str() : "-");
    }
    return order;
  };
  EXPECT_EQ(run(99), run(99));
  EXPECT_NE(run(99), run(100));
}

TEST(MemberTable, MembersRange) {
  static_assert(std::random_access_iterator<MemberRange<const Member>::iterator>);
  static_assert(std::random_access_iterator<MemberRange<Member>::iterator>);
  MemberTable t("self");
  Rng rng(12);
  for (int i = 0; i < 5; ++i) t.insert(member("n" + std::to_string(i)), rng);
  for (Member &m : t.members()) m.incarnation = 7;
  const MemberTable &ct = t;
  EXPECT_EQ(ct.members().size(), 5u);
  EXPECT_TRUE(std::all_of(ct.members().begin(), ct.members().end(),
                          [](const Member &m) { return m.incarnation == 7; }));
  auto r = ct.members();
  EXPECT_EQ(&r.begin()[2], &ct.at(2));
  EXPECT_EQ(r.end() - r.begin(), 5);
}

// The compact record: name, address and metadata share one buffer, inline or on the heap, and
// every transition between the two keeps all three intact (including a nil vs an empty slice).
TEST(Member, InlineAndHeapBuffersKeepEveryField) {
  const std::string long_name(300, 'n');
  for (const std::string &name : {std::string("a"), std::string("node-0123456789"), long_name}) {
    Member m(name);
    EXPECT_EQ(m.name(), name);
    EXPECT_FALSE(m.has_addr());
    EXPECT_FALSE(m.has_meta());
    const wire::Bytes v4{10, 0, 0, 7}, v6(16, 0xab), big_meta(512, 'm'), small_meta{'x'};
    m.set_addr(wire::ByteView(v4));
    m.set_meta(wire::ByteView(small_meta));
    EXPECT_EQ(m.name(), name);
    EXPECT_TRUE(std::ranges::equal(m.addr(), v4));
    EXPECT_TRUE(std::ranges::equal(m.meta(), small_meta));
    m.set_meta(wire::ByteView(big_meta));  // inline -> heap
    m.set_addr(wire::ByteView(v6));
    EXPECT_EQ(m.name(), name);
    EXPECT_TRUE(std::ranges::equal(m.addr(), v6));
    EXPECT_TRUE(std::ranges::equal(m.meta(), big_meta));
    m.set_meta(m.meta().first(3));  // aliasing its own buffer, heap -> (maybe) inline
    EXPECT_TRUE(std::ranges::equal(m.meta(), wire::Bytes{'m', 'm', 'm'}));
    m.set_meta(wire::ByteView{});
    EXPECT_TRUE(m.has_meta());
    EXPECT_TRUE(m.meta().empty());
    EXPECT_EQ(m.meta_opt(), wire::OptBytes(wire::Bytes{}));
    m.set_meta(std::nullopt);
    EXPECT_FALSE(m.has_meta());
    EXPECT_EQ(m.meta_opt(), std::nullopt);
    m.incarnation = 9;
    Member copy(m);
    EXPECT_EQ(copy.name(), name);
    EXPECT_EQ(copy.name_hash(), m.name_hash());
    EXPECT_TRUE(std::ranges::equal(copy.addr(), v6));
    EXPECT_EQ(copy.incarnation, 9u);
    Member moved(std::move(m));
    EXPECT_EQ(moved.name(), name);
    EXPECT_TRUE(std::ranges::equal(moved.addr(), v6));
    EXPECT_TRUE(m.name().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    copy = moved;
    moved = Member("other");
    EXPECT_EQ(copy.name(), name);
    EXPECT_EQ(moved.name(), "other");
  }
}

// The open-addressing index against a reference map, through inserts, lookups, reaps (which
// erase with backward shifts) and slot reuse, at sizes that force several rehashes.
TEST(MemberTable, IndexMatchesReferenceThroughChurn) {
  MemberTable t("self");
  Rng rng(99);
  std::set<std::string> ref;
  const TimePoint old = kNow - 1h;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 700; ++i) {
      const std::string name = "r" + std::to_string(round) + "-" + std::to_string(i);
      // Every third one is dead long ago, so the next reap removes it.
      const bool doomed = i % 3 == 0;
      t.insert(member(name, doomed ? NodeState::Dead : NodeState::Alive, doomed ? old : kNow), rng);
      if (!doomed) ref.insert(name);
    }
    t.reap_and_shuffle(kNow, 30s, rng);
    ASSERT_EQ(t.size(), ref.size());
    for (const auto &name : ref) {
      const Member *m = t.find(name);
      ASSERT_NE(m, nullptr) << name;
      EXPECT_EQ(m->name(), name);
    }
    EXPECT_EQ(t.find("r" + std::to_string(round) + "-0"), nullptr);
    for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.find(t.at(i).name()), &t.at(i));
  }
}

TEST(MemberTable, MovableTable) {
  MemberTable t("self");
  Rng rng(11);
  Member &a = t.insert(member("a"), rng).first;
  MemberTable u = std::move(t);
  EXPECT_EQ(u.find("a"), &a);
  EXPECT_EQ(u.local_name(), "self");
}

}  // namespace
}  // namespace memberlist::state
