// state::Fifo, the first-in first-out queue the core's per-node queues use (failed nodes, moved
// names, a host's deferred inputs, a notifier's callbacks).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace memberlist::state {

// A first-in first-out queue that allocates nothing while empty (std::deque allocates a 512-byte
// block and its map as soon as it is constructed, and a node keeps several): a vector read from a
// moving head, compacted once the consumed prefix is half of it (amortized O(1) per element).
template <class T>
class Fifo {
 public:
  bool empty() const noexcept { return head_ == v_.size(); }
  std::size_t size() const noexcept { return v_.size() - head_; }
  T &front() noexcept { return v_[head_]; }
  const T &front() const noexcept { return v_[head_]; }
  auto begin() noexcept { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() noexcept { return v_.end(); }
  auto begin() const noexcept { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const noexcept { return v_.end(); }
  void push_back(T x) { v_.push_back(std::move(x)); }
  template <class... A>
  T &emplace_back(A &&...a) {
    return v_.emplace_back(std::forward<A>(a)...);
  }
  void pop_front() {
    ++head_;
    if (head_ == v_.size()) {
      clear();
    } else if (head_ >= 16 && 2 * head_ >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Empties the queue; a large buffer is given back rather than kept for the next burst.
  void clear() noexcept {
    v_.clear();
    head_ = 0;
    if (v_.capacity() > 64) std::vector<T>().swap(v_);
  }
  template <class Pred>
  friend std::size_t erase_if(Fifo &q, Pred pred) {
    const auto first = q.begin();
    const auto it = std::remove_if(first, q.v_.end(), pred);
    const auto n = static_cast<std::size_t>(q.v_.end() - it);
    q.v_.erase(it, q.v_.end());
    if (q.empty()) q.clear();
    return n;
  }

 private:
  std::vector<T> v_;
  std::size_t head_ = 0;
};

}  // namespace memberlist::state
