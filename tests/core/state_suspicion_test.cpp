// Tests for core/state/suspicion.hpp: memberlist suspicion_test.go ported to a timer-less
// object, plus values computed by memberlist's remainingSuspicionTime under Go.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "state/suspicion.hpp"
#include "state/util.hpp"

namespace memberlist::state {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using TP = Suspicion::Clock::time_point;

const TP kStart = TP(1000h);

TEST(Suspicion, RemainingTimeGoTable) {
  // suspicion_test.go TestSuspicion_remainingSuspicionTime.
  struct Case {
    int n, k;
    nanoseconds elapsed, min, max, expected;
  };
  const Case cases[] = {
      {0, 3, 0s, 2s, 30s, 30s},
      {1, 3, 2s, 2s, 30s, 14s},
      {2, 3, 3s, 2s, 30s, 4810ms},
      {3, 3, 4s, 2s, 30s, -2s},
      {4, 3, 5s, 2s, 30s, -3s},
      {5, 3, 10s, 2s, 30s, -8s},
  };
  int i = 0;
  for (const auto &c : cases) {
    EXPECT_EQ(remaining_suspicion_time(c.n, c.k, c.elapsed, c.min, c.max), c.expected)
        << "case " << i++;
  }
}

TEST(Suspicion, RemainingTimeValuesFromGo) {
  // remainingSuspicionTime(n, k, 0, min, max) evaluated by Go.
  struct Case {
    nanoseconds min, max;
    int k, n;
    nanoseconds expected;
  };
  const Case cases[] = {
      // LAN, n = 10 nodes: min 4 s, max 24 s, k = 2 (WIRE.md §6.3).
      {4s, 24s, 2, 0, 24s},        {4s, 24s, 2, 1, 11381ms},   {4s, 24s, 2, 2, 4s},
      {4s, 24s, 3, 1, 14s},        {4s, 24s, 3, 2, 8150ms},    {4s, 24s, 4, 1, 15386ms},
      {4s, 24s, 4, 2, 10347ms},
      // Sub-millisecond bounds: the total is floored to whole ms, then clamped to min.
      {1234567us, 7777777us, 1, 0, 7777ms},  {1234567us, 7777777us, 1, 1, 1234567us},
      {1234567us, 7777777us, 2, 1, 3649ms},  {1234567us, 7777777us, 3, 1, 4506ms},
      {1234567us, 7777777us, 3, 2, 2592ms},  {1234567us, 7777777us, 4, 1, 4959ms},
      {1234567us, 7777777us, 4, 2, 3311ms},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(remaining_suspicion_time(c.n, c.k, 0ns, c.min, c.max), c.expected)
        << "k=" << c.k << " n=" << c.n << " min=" << c.min.count();
  }
}

TEST(Suspicion, TimerGoCases) {
  // suspicion_test.go TestSuspicion_Timer: k = 3, min 500 ms, max 2 s, accuser "me". There the
  // confirmations arrive 25 ms apart and the timer must fire at `expected` after the start; here
  // the deadline is checked directly, and it must not depend on when the confirmations came.
  constexpr int k = 3;
  constexpr nanoseconds min = 500ms, max = 2s;
  struct Pair {
    std::string from;
    bool new_info;
  };
  struct Case {
    int confirmations;
    std::vector<Pair> pairs;
    nanoseconds expected;
  };
  const std::vector<Case> cases = {
      {0, {}, max},
      {1, {{"me", false}, {"foo", true}}, 1250ms},
      {1, {{"me", false}, {"foo", true}, {"foo", false}, {"foo", false}}, 1250ms},
      // Go's table says 810 ms, but its check is ±25 ms; the formula gives floor(811.278) ms,
      // which is what Go's remainingSuspicionTime returns.
      {2, {{"me", false}, {"foo", true}, {"bar", true}}, 811ms},
      {3, {{"me", false}, {"foo", true}, {"bar", true}, {"baz", true}}, min},
      {3, {{"me", false}, {"foo", true}, {"bar", true}, {"baz", true}, {"zoo", false}}, min},
  };
  int i = 0;
  for (const auto &c : cases) {
    Suspicion s("me", k, min, max, kStart);
    for (const auto &p : c.pairs) {
      EXPECT_EQ(s.confirm(p.from), p.new_info) << "case " << i << " from " << p.from;
    }
    EXPECT_EQ(s.confirmations(), c.confirmations) << "case " << i;
    EXPECT_EQ(s.deadline(), kStart + c.expected) << "case " << i;
    EXPECT_EQ(s.timeout(), c.expected) << "case " << i;
    // Fires at the deadline, not before (the "fudge" windows of the Go test).
    const TP before = kStart + c.expected - 25ms, after = kStart + c.expected + 25ms;
    EXPECT_GT(s.remaining(before), 0ns) << "case " << i;
    EXPECT_LT(s.remaining(after), 0ns) << "case " << i;
    // A late confirmation after it fired changes nothing once k is reached, and at most moves
    // the deadline further into the past otherwise.
    const TP old = s.deadline();
    s.confirm("late");
    EXPECT_LE(s.deadline(), old) << "case " << i;
    ++i;
  }
}

TEST(Suspicion, ZeroKUsesMinAndTakesNoConfirmations) {
  // suspicion_test.go TestSuspicion_Timer_ZeroK.
  Suspicion s("me", 0, 25ms, 30s, kStart);
  EXPECT_FALSE(s.confirm("foo"));
  EXPECT_EQ(s.confirmations(), 0);
  EXPECT_EQ(s.deadline(), kStart + 25ms);
  EXPECT_LE(s.remaining(kStart + 50ms), 0ns);
  Suspicion neg("me", -3, 25ms, 30s, kStart);
  EXPECT_EQ(neg.deadline(), kStart + 25ms);
  EXPECT_FALSE(neg.confirm("bar"));
}

TEST(Suspicion, ImmediateWhenConfirmationComesLate) {
  // suspicion_test.go TestSuspicion_Timer_Immediate: k = 1, min 100 ms, max 30 s; a confirmation
  // 200 ms in drives the total to min, which has already passed → fire now.
  Suspicion s("me", 1, 100ms, 30s, kStart);
  EXPECT_EQ(s.deadline(), kStart + 30s);
  const TP now = kStart + 200ms;
  EXPECT_TRUE(s.confirm("foo"));
  EXPECT_EQ(s.deadline(), kStart + 100ms);
  EXPECT_EQ(s.remaining(now), -100ms);
}

TEST(Suspicion, InitialDeadlineIsExactMax) {
  // Go arms its timer with max itself; the ms flooring only applies after a confirmation.
  Suspicion s("a", 2, 1234567us, 7777777us, kStart);
  EXPECT_EQ(s.deadline(), kStart + 7777777us);
  EXPECT_TRUE(s.confirm("b"));
  EXPECT_EQ(s.deadline(), kStart + 3649ms);
  EXPECT_TRUE(s.confirm("c"));
  EXPECT_EQ(s.deadline(), kStart + 1234567us);
  EXPECT_FALSE(s.confirm("d"));
}

TEST(Suspicion, LanDefaultsEndToEnd) {
  // LAN: SuspicionMult 4 → k = 2, n = 10: min = suspicion_timeout = 4 s, max = 6 × min = 24 s.
  const nanoseconds min = suspicion_timeout(4, 10, 1s);
  const nanoseconds max = 6 * min;
  Suspicion s("accuser", 4 - 2, min, max, kStart);
  EXPECT_EQ(s.k(), 2);
  EXPECT_EQ(s.min(), 4s);
  EXPECT_EQ(s.max(), 24s);
  EXPECT_EQ(s.start(), kStart);
  EXPECT_EQ(s.deadline(), kStart + 24s);
  EXPECT_FALSE(s.confirm("accuser"));
  EXPECT_TRUE(s.confirm("x"));
  EXPECT_EQ(s.deadline(), kStart + 11381ms);
  EXPECT_TRUE(s.confirm("y"));
  EXPECT_EQ(s.deadline(), kStart + 4s);
  EXPECT_FALSE(s.confirm("z"));
  EXPECT_EQ(s.confirmations(), 2);
}

}  // namespace
}  // namespace memberlist::state
