// A compact hash index for records that live elsewhere and know their own hash: the member table's
// name index and the broadcast queue's name index. Open addressing with linear probing, load at
// most 3/4, deletion by backward shift (no tombstones). Each slot is a value V (a pointer or an
// iterator to the record) plus one control byte: 0 for empty, else 0x80 | 7 bits of the hash, so a
// probe reads a record only when those bits match. About 12 bytes per entry on average where a
// std::unordered_map node cost 48-64 plus its bucket.
//
// HashOf(const V&) gives the record's 32-bit hash again (for growing and shifting); lookups take
// the hash and a predicate, so keys are compared by the caller against the record itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace memberlist::state {

template <class V, class HashOf>
class OpenIndex {
 public:
  explicit OpenIndex(HashOf hash_of = HashOf{}) : hash_of_(std::move(hash_of)) {}

  // The value whose record has this hash and satisfies match, or null. The pointer is valid
  // until the next insert, erase or clear.
  template <class Match>
  V *find(std::uint32_t hash, Match &&match) noexcept(noexcept(match(std::declval<const V &>()))) {
    return const_cast<V *>(std::as_const(*this).find(hash, std::forward<Match>(match)));
  }
  template <class Match>
  const V *find(std::uint32_t hash, Match &&match) const noexcept(noexcept(match(std::declval<const V &>()))) {
    if (ctrl_.empty()) return nullptr;
    const std::size_t mask = ctrl_.size() - 1;
    const std::uint8_t c = ctrl_of(hash);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      if (ctrl_[i] == 0) return nullptr;
      if (ctrl_[i] == c && match(vals_[i])) return &vals_[i];
    }
  }

  // Adds v (whose record hashes to `hash`); the caller makes sure it is not present yet.
  void insert(V v, std::uint32_t hash) {
    if ((count_ + 1) * 4 > ctrl_.size() * 3) grow();
    place(std::move(v), hash);
    ++count_;
  }

  // Removes the value found as find(hash, match) would; false when there is none.
  template <class Match>
  bool erase(std::uint32_t hash, Match &&match) noexcept(noexcept(match(std::declval<const V &>()))) {
    const V *v = find(hash, std::forward<Match>(match));
    if (v == nullptr) return false;
    erase_at(static_cast<std::size_t>(v - vals_.data()));
    return true;
  }

  void clear() noexcept {
    release();
    count_ = 0;
  }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }

 private:
  static std::uint8_t ctrl_of(std::uint32_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80u | (hash >> 25));
  }

  void place(V v, std::uint32_t hash) {
    const std::size_t mask = ctrl_.size() - 1;
    std::size_t i = hash & mask;
    while (ctrl_[i] != 0) i = (i + 1) & mask;
    vals_[i] = std::move(v);
    ctrl_[i] = ctrl_of(hash);
  }

  void grow() {
    std::vector<V> old_vals = std::move(vals_);
    std::vector<std::uint8_t> old_ctrl = std::move(ctrl_);
    const std::size_t n = old_ctrl.empty() ? 16 : old_ctrl.size() * 2;
    vals_.assign(n, V{});
    ctrl_.assign(n, 0);
    for (std::size_t i = 0; i < old_ctrl.size(); ++i) {
      if (old_ctrl[i] == 0) continue;
      const std::uint32_t h = hash_of_(old_vals[i]);
      place(std::move(old_vals[i]), h);
    }
  }

  // Backward shift: each later value of the run moves into the hole unless its home slot lies
  // cyclically after the hole (it is then already as close to home as it can get).
  void erase_at(std::size_t i) noexcept {
    const std::size_t mask = ctrl_.size() - 1;
    for (std::size_t k = (i + 1) & mask; ctrl_[k] != 0; k = (k + 1) & mask) {
      const std::size_t home = hash_of_(vals_[k]) & mask;
      const bool stays = i <= k ? (i < home && home <= k) : (i < home || home <= k);
      if (stays) continue;
      vals_[i] = std::move(vals_[k]);
      ctrl_[i] = ctrl_[k];
      i = k;
    }
    vals_[i] = V{};
    ctrl_[i] = 0;
    if (--count_ == 0) release();
  }

  // An index that empties gives its slots back: a broadcast queue swells to N entries during a
  // join, then drains for good.
  void release() noexcept {
    std::vector<V>().swap(vals_);
    std::vector<std::uint8_t>().swap(ctrl_);
  }

  std::vector<V> vals_;
  std::vector<std::uint8_t> ctrl_;
  std::size_t count_ = 0;
  HashOf hash_of_;
};

}  // namespace memberlist::state
