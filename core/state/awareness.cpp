// Implementation of core/state/awareness.hpp.
#include "state/awareness.hpp"

#include <cstdint>

namespace memberlist::state {

bool Awareness::apply_delta(int delta) noexcept {
  const int before = score_;
  std::int64_t next = static_cast<std::int64_t>(score_) + delta;
  const std::int64_t top = static_cast<std::int64_t>(max_) - 1;
  if (next < 0) {
    next = 0;
  } else if (next > top) {
    next = top;
  }
  score_ = static_cast<int>(next);
  return score_ != before;
}

}  // namespace memberlist::state
