// Implementation of core/state/suspicion.hpp.
#include "state/suspicion.hpp"

#include <cmath>
#include <cstdint>
#include <utility>

namespace memberlist::state {

namespace {

double seconds(std::chrono::nanoseconds d) noexcept {
  return static_cast<double>(d.count()) / 1e9;
}

}  // namespace

std::chrono::nanoseconds remaining_suspicion_time(int n, int k, std::chrono::nanoseconds elapsed,
                                                  std::chrono::nanoseconds min,
                                                  std::chrono::nanoseconds max) noexcept {
  const double frac = std::log(static_cast<double>(n) + 1.0) / std::log(static_cast<double>(k) + 1.0);
  const double raw = seconds(max) - frac * (seconds(max) - seconds(min));
  const double ms = std::floor(1000.0 * raw);
  std::chrono::nanoseconds total = min;
  // Non-finite or out-of-range values (k < 1) would be undefined to convert; Go ends at min there.
  if (std::isfinite(ms) && ms > -9.2e15 && ms < 9.2e15) {
    total = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
    if (total < min) total = min;
  }
  return total - elapsed;
}

Suspicion::Suspicion(std::string from, int k, std::chrono::nanoseconds min,
                     std::chrono::nanoseconds max, Clock::time_point start)
    : k_(k), min_(min), max_(max), start_(start), timeout_(k < 1 ? min : max) {
  seen_.insert(std::move(from));
}

bool Suspicion::confirm(std::string_view from) {
  if (n_ >= k_) return false;
  if (seen_.find(from) != seen_.end()) return false;
  seen_.emplace(from);
  ++n_;
  timeout_ = remaining_suspicion_time(n_, k_, std::chrono::nanoseconds(0), min_, max_);
  return true;
}

}  // namespace memberlist::state
