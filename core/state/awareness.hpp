// Lifeguard's local health awareness ("LHM"), as memberlist's awareness.go: a score in
// [0, max − 1] (AwarenessMaxMultiplier, default 8 → 0..7), raised by failed probes and refutes,
// lowered by acks, that stretches probe deadlines to interval × (score + 1). WIRE.md §6.3.
#pragma once

#include <chrono>

namespace memberlist::state {

class Awareness {
 public:
  // max is AwarenessMaxMultiplier. memberlist does not validate it: with max ≤ 0 the clamp
  // leaves the score at max − 1 (negative), and scale_timeout returns d × max. Kept as is.
  explicit Awareness(int max) noexcept : max_(max) {}

  // Adds delta, then clamps to 0 from below and to max − 1 from above (in that order).
  // Returns true when the score changed (memberlist updates its health gauge only then).
  bool apply_delta(int delta) noexcept;

  int score() const noexcept { return score_; }
  int max() const noexcept { return max_; }

  // d × (score + 1).
  std::chrono::nanoseconds scale_timeout(std::chrono::nanoseconds d) const noexcept {
    return d * (static_cast<long long>(score_) + 1);
  }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace memberlist::state
