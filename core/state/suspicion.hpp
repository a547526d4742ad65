// Lifeguard suspicion (LHA-suspicion) as memberlist's suspicion.go, without the timer: the
// object tracks who has confirmed the suspicion and answers when it should fire; the protocol
// arms/re-arms its own timer at deadline(). WIRE.md §6.3.
//
//  - Starts at max when k ≥ 1 confirmations are expected, else at min.
//  - Each new distinct accuser (the original one counts as seen) while fewer than k
//    confirmations exist adds one confirmation c; the total timeout becomes
//    max(min, floor_ms(max − ln(c+1)/ln(k+1) · (max − min))), measured from the start.
//  - memberlist re-arms its timer with "total − elapsed" and fires immediately when that is ≤ 0;
//    here that is simply: fire when now ≥ deadline() (check after every confirm()).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_set>

namespace memberlist::state {

// memberlist's remainingSuspicionTime: the total timeout for n of k confirmations, minus the
// time already elapsed (may be negative). The total is computed in float seconds and floored to
// whole milliseconds, then clamped to ≥ min. Requires k ≥ 1 (with k < 1 Go divides 0 by 0).
std::chrono::nanoseconds remaining_suspicion_time(int n, int k, std::chrono::nanoseconds elapsed,
                                                  std::chrono::nanoseconds min,
                                                  std::chrono::nanoseconds max) noexcept;

class Suspicion {
 public:
  using Clock = std::chrono::steady_clock;

  // from: the accuser whose suspect message started this (never counted as a confirmation).
  // k: expected confirmations (memberlist: SuspicionMult − 2, or 0 when the cluster is too small).
  Suspicion(std::string from, int k, std::chrono::nanoseconds min, std::chrono::nanoseconds max,
            Clock::time_point start);

  // Registers that `from` also suspects the node. True if this was new information (the caller
  // re-gossips the suspect message then); false for a repeated accuser or once k confirmations
  // have been counted. A true return may move deadline() earlier, possibly into the past.
  bool confirm(std::string_view from);

  // When the suspicion times out: start + the current total timeout.
  Clock::time_point deadline() const noexcept { return start_ + timeout_; }
  // The current total timeout, measured from start().
  std::chrono::nanoseconds timeout() const noexcept { return timeout_; }
  // deadline() − now; ≤ 0 means the timer must fire now.
  std::chrono::nanoseconds remaining(Clock::time_point now) const noexcept {
    return deadline() - now;
  }

  int confirmations() const noexcept { return n_; }
  int k() const noexcept { return k_; }
  std::chrono::nanoseconds min() const noexcept { return min_; }
  std::chrono::nanoseconds max() const noexcept { return max_; }
  Clock::time_point start() const noexcept { return start_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  int k_;
  int n_ = 0;
  std::chrono::nanoseconds min_;
  std::chrono::nanoseconds max_;
  Clock::time_point start_;
  std::chrono::nanoseconds timeout_;
  std::unordered_set<std::string, Hash, std::equal_to<>> seen_;
};

}  // namespace memberlist::state
