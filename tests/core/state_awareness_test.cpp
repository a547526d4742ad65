// Tests for core/state/awareness.hpp (memberlist awareness_test.go and WIRE.md §6.3).
#include <gtest/gtest.h>

#include <chrono>

#include "state/awareness.hpp"

namespace memberlist::state {
namespace {

using namespace std::chrono_literals;

TEST(Awareness, GoTable) {
  // awareness_test.go TestAwareness: {delta, score, ScaleTimeout(1s)} with max 8.
  struct Case {
    int delta;
    int score;
    std::chrono::nanoseconds timeout;
  };
  const Case cases[] = {
      {0, 0, 1s},   {-1, 0, 1s}, {-10, 0, 1s}, {1, 1, 2s},  {-1, 0, 1s},
      {10, 7, 8s},  {-1, 6, 7s}, {-1, 5, 6s},  {-1, 4, 5s}, {-1, 3, 4s},
      {-1, 2, 3s},  {-1, 1, 2s}, {-1, 0, 1s},  {-1, 0, 1s},
  };
  Awareness a(8);
  int i = 0;
  for (const auto &c : cases) {
    a.apply_delta(c.delta);
    EXPECT_EQ(a.score(), c.score) << "case " << i;
    EXPECT_EQ(a.scale_timeout(1s), c.timeout) << "case " << i;
    ++i;
  }
}

TEST(Awareness, ReportsChanges) {
  Awareness a(3);
  EXPECT_EQ(a.max(), 3);
  EXPECT_FALSE(a.apply_delta(-1));  // railed at 0
  EXPECT_TRUE(a.apply_delta(1));
  EXPECT_TRUE(a.apply_delta(5));    // 1 → 2 (max − 1)
  EXPECT_EQ(a.score(), 2);
  EXPECT_FALSE(a.apply_delta(1));   // railed at max − 1
  EXPECT_FALSE(a.apply_delta(0));
  EXPECT_EQ(a.scale_timeout(500ms), 1500ms);
}

TEST(Awareness, MaxOneNeverScales) {
  Awareness a(1);
  a.apply_delta(100);
  EXPECT_EQ(a.score(), 0);
  EXPECT_EQ(a.scale_timeout(1s), 1s);
}

TEST(Awareness, ExtremeDeltasDoNotOverflow) {
  Awareness a(8);
  a.apply_delta(std::numeric_limits<int>::max());
  EXPECT_EQ(a.score(), 7);
  a.apply_delta(std::numeric_limits<int>::min());
  EXPECT_EQ(a.score(), 0);
}

TEST(Awareness, NonPositiveMaxBehavesAsInGo) {
  // Go clamps "< 0 → 0" first, then "> max − 1 → max − 1", so max 0 ends at −1 and the scaled
  // timeout is 0 (memberlist does not validate AwarenessMaxMultiplier).
  Awareness a(0);
  a.apply_delta(0);
  EXPECT_EQ(a.score(), -1);
  EXPECT_EQ(a.scale_timeout(1s), 0s);
}

}  // namespace
}  // namespace memberlist::state
