// Tests for core/state/util.hpp (and state::Fifo, core/state/fifo.hpp). Expected numbers come from memberlist's util_test.go, from
// WIRE.md §6.3–§6.5, and from running memberlist's formulas under Go 1.26 (amd64).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "state/fifo.hpp"
#include "state/util.hpp"

namespace memberlist::state {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

TEST(Util, SuspicionTimeoutGoTable) {
  // util_test.go TestSuspicionTimeout: suspicionTimeout(3, n, 1s) / 3.
  const std::map<std::size_t, nanoseconds> cases = {
      {5, 1000ms}, {10, 1000ms}, {50, 1698ms}, {100, 2000ms}, {500, 2698ms}, {1000, 3000ms},
  };
  for (const auto &[n, want] : cases) {
    EXPECT_EQ(suspicion_timeout(3, n, 1s) / 3, want) << "n=" << n;
  }
}

TEST(Util, SuspicionTimeoutBoundariesFromGo) {
  // suspicionTimeout(1, n, time.Second) as Go computes it.
  const std::vector<std::pair<std::size_t, std::int64_t>> cases = {
      {0, 1000}, {1, 1000}, {2, 1000}, {10, 1000}, {31, 1491}, {32, 1505}, {33, 1518},
      {64, 1806}, {65, 1812}, {99, 1995}, {128, 2107}, {316, 2499}, {317, 2501}, {999, 2999},
      {1024, 3010}, {3162, 3499}, {3163, 3500}, {4096, 3612}, {9999, 3999}, {10000, 4000},
      {99999, 4999}, {100000, 5000}, {999999, 5999}, {1000000, 6000},
  };
  for (const auto &[n, ms] : cases) {
    EXPECT_EQ(suspicion_timeout(1, n, 1s), std::chrono::milliseconds(ms)) << "n=" << n;
  }
}

TEST(Util, SuspicionTimeoutWireExamples) {
  // WIRE.md §6.3: LAN defaults (SuspicionMult 4, ProbeInterval 1s), n = 10 → min 4 s.
  EXPECT_EQ(suspicion_timeout(4, 10, 1s), 4s);
  // WAN: SuspicionMult 6, ProbeInterval 5s.
  EXPECT_EQ(suspicion_timeout(6, 10, 5s), 30s);
  // Local: SuspicionMult 3, 1s, n = 50: 3 × 1.698 s.
  EXPECT_EQ(suspicion_timeout(3, 50, 1s), 5094ms);
  // The scale is truncated to thousandths *before* multiplying by a non-second interval.
  EXPECT_EQ(suspicion_timeout(1, 50, 200ms), nanoseconds(1698LL * 200'000'000 / 1000));
  EXPECT_EQ(suspicion_timeout(0, 50, 1s), 0ns);
}

TEST(Util, RetransmitLimitGoTable) {
  // util_test.go TestRetransmitLimit.
  EXPECT_EQ(retransmit_limit(3, 0), 0);
  EXPECT_EQ(retransmit_limit(3, 1), 3);
  EXPECT_EQ(retransmit_limit(3, 99), 6);
}

TEST(Util, RetransmitLimitWireRanges) {
  // WIRE.md §6.4 with the LAN multiplier 4: n 1–9 → 4, 10–99 → 8, 100–999 → 12.
  for (std::size_t n = 1; n <= 9; ++n) EXPECT_EQ(retransmit_limit(4, n), 4) << n;
  for (std::size_t n = 10; n <= 99; ++n) EXPECT_EQ(retransmit_limit(4, n), 8) << n;
  for (std::size_t n = 100; n <= 999; ++n) EXPECT_EQ(retransmit_limit(4, n), 12) << n;
  EXPECT_EQ(retransmit_limit(4, 1000), 16);
  // Go: powers of ten minus one stay in the lower band.
  EXPECT_EQ(retransmit_limit(1, 9999), 4);
  EXPECT_EQ(retransmit_limit(1, 10000), 5);
  EXPECT_EQ(retransmit_limit(1, 99999), 5);
  EXPECT_EQ(retransmit_limit(1, 100000), 6);
  EXPECT_EQ(retransmit_limit(1, 999999), 6);
  EXPECT_EQ(retransmit_limit(1, 1000000), 7);
}

TEST(Util, PushPullScaleGoTable) {
  // util_test.go TestPushPullScale.
  for (std::size_t n = 0; n <= 32; ++n) EXPECT_EQ(push_pull_scale(1s, n), 1s) << n;
  for (std::size_t n = 33; n <= 64; ++n) EXPECT_EQ(push_pull_scale(1s, n), 2s) << n;
  for (std::size_t n = 65; n <= 128; ++n) EXPECT_EQ(push_pull_scale(1s, n), 3s) << n;
}

TEST(Util, PushPullScaleLarger) {
  EXPECT_EQ(push_pull_scale(1s, 129), 4s);
  EXPECT_EQ(push_pull_scale(1s, 1024), 6s);
  EXPECT_EQ(push_pull_scale(1s, 1025), 7s);
  EXPECT_EQ(push_pull_scale(1s, 4096), 8s);
  EXPECT_EQ(push_pull_scale(1s, 100000), 13s);
  EXPECT_EQ(push_pull_scale(1s, 1000000), 16s);
  EXPECT_EQ(push_pull_scale(30s, 50), 60s);  // LAN PushPullInterval, 50 nodes
  EXPECT_EQ(push_pull_scale(0s, 1000), 0s);
}

TEST(Util, RngIsDeterministic) {
  Rng a(42), b(42), c(43);
  std::vector<std::uint64_t> va, vb, vc;
  for (int i = 0; i < 16; ++i) {
    va.push_back(a());
    vb.push_back(b());
    vc.push_back(c());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  a.reseed(42);
  EXPECT_EQ(a(), va[0]);
  static_assert(std::uniform_random_bit_generator<Rng>);
}

TEST(Util, RngBelow) {
  Rng r(1);
  EXPECT_EQ(r.below(0), 0u);
  EXPECT_EQ(r.below(1), 0u);
  std::vector<int> hist(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto v = r.below(7);
    ASSERT_LT(v, 7u);
    ++hist[v];
  }
  for (int h : hist) {
    EXPECT_GT(h, 9000);
    EXPECT_LT(h, 11000);
  }
  const std::uint64_t big = (std::uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(r.below(big), big);
}

TEST(Util, RandomOffset) {
  Rng r(7);
  EXPECT_EQ(random_offset(0, r), 0u);  // util_test.go TestRandomOffset_Zero
  EXPECT_EQ(random_offset(1, r), 0u);
  // util_test.go TestRandomOffset: 100 draws from 2<<30 do not collide.
  std::set<std::size_t> seen;
  for (int i = 0; i < 100; ++i) {
    const auto off = random_offset(std::size_t{2} << 30, r);
    EXPECT_LT(off, std::size_t{2} << 30);
    EXPECT_TRUE(seen.insert(off).second) << "collision";
  }
  std::vector<int> hist(5, 0);
  for (int i = 0; i < 5000; ++i) ++hist[random_offset(5, r)];
  for (int h : hist) EXPECT_GT(h, 800);
  // Same as Go: a 32-bit value modulo n.
  Rng x(99), y(99);
  EXPECT_EQ(random_offset(1000, x), y.next_u32() % 1000u);
}

TEST(Util, RandomStagger) {
  Rng r(3);
  EXPECT_EQ(random_stagger(0ns, r), 0ns);
  EXPECT_EQ(random_stagger(-5s, r), 0ns);
  EXPECT_EQ(random_stagger(1ns, r), 0ns);
  nanoseconds lo = 1s, hi = 0s;
  for (int i = 0; i < 2000; ++i) {
    const auto s = random_stagger(1s, r);
    ASSERT_GE(s, 0ns);
    ASSERT_LT(s, 1s);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_LT(lo, 10ms);
  EXPECT_GT(hi, 990ms);
}

TEST(Util, ShuffleIsAPermutationAndMoves) {
  // util_test.go TestShuffleNodes: an 8-element list changes order.
  std::vector<int> v(8);
  std::iota(v.begin(), v.end(), 0);
  const auto orig = v;
  Rng r(5);
  shuffle(std::span<int>(v), r);
  EXPECT_NE(v, orig);
  auto sorted = v;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, orig);

  std::vector<int> empty;
  shuffle(std::span<int>(empty), r);
  std::vector<int> one{9};
  shuffle(std::span<int>(one), r);
  EXPECT_EQ(one, std::vector<int>{9});
}

TEST(Util, ShuffleIsUniformOverPermutations) {
  Rng r(11);
  std::map<std::vector<int>, int> counts;
  for (int i = 0; i < 60000; ++i) {
    std::vector<int> v{0, 1, 2};
    shuffle(std::span<int>(v), r);
    ++counts[v];
  }
  ASSERT_EQ(counts.size(), 6u);
  for (const auto &[perm, c] : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

enum class S { Alive, Suspect, Dead };

TEST(Util, KRandomIndicesGoTest) {
  // util_test.go TestKRandomNodes: 90 nodes, states cycling Alive/Suspect/Dead; exclude
  // "test0" and anything not Alive.
  std::vector<S> states;
  for (int i = 0; i < 90; ++i) states.push_back(static_cast<S>(i % 3));
  auto exclude = [&](std::size_t i) { return i == 0 || states[i] != S::Alive; };
  Rng r(2024);
  const auto s1 = k_random_indices(3, states.size(), exclude, r);
  const auto s2 = k_random_indices(3, states.size(), exclude, r);
  const auto s3 = k_random_indices(3, states.size(), exclude, r);
  EXPECT_NE(s1, s2);
  EXPECT_NE(s1, s3);
  EXPECT_NE(s2, s3);
  for (const auto &s : {s1, s2, s3}) {
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(std::set<std::size_t>(s.begin(), s.end()).size(), 3u) << "duplicates";
    for (auto i : s) {
      EXPECT_NE(i, 0u);
      EXPECT_EQ(states[i], S::Alive);
    }
  }
  // The very-small path (n < 3k) is exhaustive: of the first 8, only 3 and 6 qualify.
  for (int round = 0; round < 50; ++round) {
    const auto s4 = k_random_indices(3, 8, exclude, r);
    ASSERT_EQ(s4.size(), 2u);
    EXPECT_EQ(std::set<std::size_t>(s4.begin(), s4.end()), (std::set<std::size_t>{3, 6}));
  }
}

TEST(Util, KRandomIndicesEdges) {
  Rng r(8);
  auto none = [](std::size_t) { return false; };
  EXPECT_TRUE(k_random_indices(0, 10, none, r).empty());
  EXPECT_TRUE(k_random_indices(3, 0, none, r).empty());
  auto all = k_random_indices(5, 4, none, r);  // fewer than k available
  EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()), (std::set<std::size_t>{0, 1, 2, 3}));
  auto every = [](std::size_t) { return true; };
  EXPECT_TRUE(k_random_indices(3, 1000, every, r).empty());
  // Large path: k distinct, and every position gets picked sometimes.
  std::vector<int> hist(30, 0);
  for (int i = 0; i < 3000; ++i) {
    auto s = k_random_indices(3, 30, none, r);
    ASSERT_EQ(s.size(), 3u);
    ASSERT_EQ(std::set<std::size_t>(s.begin(), s.end()).size(), 3u);
    for (auto x : s) ++hist[x];
  }
  for (int h : hist) EXPECT_GT(h, 150);
}


// k_random_selected: kRandomNodes with a node-selection delegate's answer (a pool of positions
// and an optional preferred one).
TEST(Util, KRandomSelectedPreferredAlwaysFirst) {
  Rng r(17);
  auto none = [](std::size_t) { return false; };
  const std::vector<std::size_t> pool{2, 4, 6, 8, 10, 12, 14, 16, 18, 20};
  for (int round = 0; round < 200; ++round) {
    const auto s = k_random_selected(3, std::span<const std::size_t>(pool), std::optional<std::size_t>(7), none, r);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0], 7u) << "the preferred position comes first, even outside the pool";
    EXPECT_EQ(std::set<std::size_t>(s.begin(), s.end()).size(), 3u) << "duplicates";
    for (std::size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i] % 2, 0u) << "the rest come from the pool";
  }
  // The preferred one inside the pool is never picked twice, and k = 1 gives just it.
  const std::vector<std::size_t> small{1, 2, 3};
  for (int round = 0; round < 50; ++round) {
    const auto s = k_random_selected(3, std::span<const std::size_t>(small), std::optional<std::size_t>(2), none, r);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0], 2u);
    EXPECT_EQ(std::set<std::size_t>(s.begin(), s.end()), (std::set<std::size_t>{1, 2, 3}));
    EXPECT_EQ(k_random_selected(1, std::span<const std::size_t>(small), std::optional<std::size_t>(3), none, r),
              (std::vector<std::size_t>{3}));
  }
}

TEST(Util, KRandomSelectedExcludedPreferredSkipped) {
  Rng r(18);
  auto odd_out = [](std::size_t i) { return i % 2 == 1; };
  const std::vector<std::size_t> pool{1, 2, 3, 4, 5, 6};
  for (int round = 0; round < 50; ++round) {
    const auto s =
        k_random_selected(5, std::span<const std::size_t>(pool), std::optional<std::size_t>(5), odd_out, r);
    // 5 is excluded: not picked; the rest are the eligible part of the pool, all of it.
    EXPECT_EQ(std::set<std::size_t>(s.begin(), s.end()), (std::set<std::size_t>{2, 4, 6}));
  }
}

TEST(Util, KRandomSelectedEmptyAndEdges) {
  Rng r(19);
  auto none = [](std::size_t) { return false; };
  const std::vector<std::size_t> empty;
  EXPECT_TRUE(k_random_selected(3, std::span<const std::size_t>(empty), std::nullopt, none, r).empty());
  EXPECT_EQ(k_random_selected(3, std::span<const std::size_t>(empty), std::optional<std::size_t>(9), none, r),
            (std::vector<std::size_t>{9}))
      << "an empty pool still gets the preferred node";
  const std::vector<std::size_t> pool{3, 1, 4};
  EXPECT_TRUE(k_random_selected(0, std::span<const std::size_t>(pool), std::optional<std::size_t>(1), none, r).empty())
      << "k = 0 picks nothing, not even the preferred node";
  // k larger than the pool: every pooled position, once.
  const auto all = k_random_selected(10, std::span<const std::size_t>(pool), std::nullopt, none, r);
  EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()), (std::set<std::size_t>{1, 3, 4}));
  EXPECT_EQ(all.size(), 3u);
  // Without a preferred node the draws are k_random_indices' over the pool: same rng, same picks.
  std::vector<std::size_t> big(100);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = 1000 + i;
  Rng a(5), b(5);
  const auto via_pool = k_random_selected(4, std::span<const std::size_t>(big), std::nullopt, none, a);
  const auto direct = k_random_indices(4, big.size(), none, b);
  ASSERT_EQ(via_pool.size(), direct.size());
  for (std::size_t i = 0; i < direct.size(); ++i) EXPECT_EQ(via_pool[i], big[direct[i]]);
}

// Fifo: first in, first out across the compactions of its consumed prefix, erase_if keeps the
// order of what stays, and clearing or draining a large queue gives its buffer back.
TEST(Fifo, OrderAcrossCompactionAndEraseIf) {
  Fifo<std::string> q;
  EXPECT_TRUE(q.empty());
  std::deque<std::string> model;
  Rng r(3);
  int next = 0;
  for (int step = 0; step < 5000; ++step) {
    if (r.below(3) != 0 || model.empty()) {
      q.push_back(std::to_string(next));
      model.push_back(std::to_string(next++));
    } else {
      ASSERT_EQ(q.front(), model.front());
      q.pop_front();
      model.pop_front();
    }
    if (step % 997 == 0) {
      auto odd = [](const std::string &x) { return (x.back() - '0') % 2 == 1; };
      const std::size_t n = erase_if(q, odd);
      EXPECT_EQ(n, std::erase_if(model, odd));
    }
    ASSERT_EQ(q.size(), model.size());
    ASSERT_TRUE(std::equal(q.begin(), q.end(), model.begin(), model.end()));
  }
  while (!q.empty()) {
    EXPECT_EQ(q.front(), model.front());
    q.pop_front();
    model.pop_front();
  }
  EXPECT_TRUE(model.empty());
  EXPECT_EQ(q.begin(), q.end());
  q.emplace_back("again");
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front(), "again");
}

}  // namespace
}  // namespace memberlist::state
