// Scaling formulas and randomness helpers of memberlist's util.go (suspicionTimeout,
// retransmitLimit, pushPullScale, randomOffset, shuffleNodes, kRandomNodes) and the random
// ticker stagger of state.go, computed the way Go computes them (WIRE.md §6.3–§6.5).
//
// Nothing here reads a clock or a global generator: randomness comes from a caller-owned Rng,
// so a seed reproduces a run exactly on every platform.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace memberlist::state {

// The 32-bit hash of a node name that the member table and the broadcast queue index by (one
// function, so an entry's cached hash finds its queued broadcast).
inline std::uint32_t hash_name(std::string_view name) noexcept {
  return static_cast<std::uint32_t>(std::hash<std::string_view>{}(name));
}

// A small, fast, platform-independent generator (xoshiro256** seeded through splitmix64).
// Satisfies std::uniform_random_bit_generator, but the helpers below never go through
// std::uniform_int_distribution or std::shuffle, whose output differs between standard libraries.
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed = 0) noexcept { reseed(seed); }
  void reseed(std::uint64_t seed) noexcept;

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }
  result_type operator()() noexcept;

  // The high 32 bits of the next output (Go's rand.Uint32 stand-in).
  std::uint32_t next_u32() noexcept { return static_cast<std::uint32_t>((*this)() >> 32); }
  // Uniform in [0, n) without modulo bias; 0 when n == 0.
  std::uint64_t below(std::uint64_t n) noexcept;

 private:
  std::array<std::uint64_t, 4> s_{};
};

// Lifeguard's minimum suspicion timeout:
//   suspicion_mult × max(1, log10(max(1, n))) × interval,
// with the node scale truncated to thousandths before the integer multiplication (as Go does, so
// n = 50 gives a scale of 1.698, not 1.69897). Products that overflow int64 wrap, as in Go.
std::chrono::nanoseconds suspicion_timeout(int suspicion_mult, std::size_t n,
                                           std::chrono::nanoseconds interval) noexcept;

// How many times a broadcast is sent in total: retransmit_mult × ceil(log10(n + 1)).
// n = 0 gives 0; with mult 4: n 1–9 → 4, 10–99 → 8, 100–999 → 12.
int retransmit_limit(int retransmit_mult, std::size_t n) noexcept;

// Push/pull period for a cluster of n nodes: interval when n ≤ 32, otherwise
// interval × (ceil(log2(n) − log2(32)) + 1): 33–64 → 2×, 65–128 → 3×, ...
inline constexpr std::size_t kPushPullScaleThreshold = 32;
std::chrono::nanoseconds push_pull_scale(std::chrono::nanoseconds interval, std::size_t n) noexcept;

// Go's randomOffset: a 32-bit random value modulo n (so n is taken modulo 2^32 first, and the
// small modulo bias is kept); 0 when n == 0.
std::size_t random_offset(std::size_t n, Rng &rng) noexcept;

// The random initial delay of memberlist's periodic tasks: uniform in [0, d); 0 when d ≤ 0.
std::chrono::nanoseconds random_stagger(std::chrono::nanoseconds d, Rng &rng) noexcept;

// Fisher–Yates shuffle (shuffleNodes), from the back, with rng.below().
template <class T>
void shuffle(std::span<T> items, Rng &rng) noexcept(std::is_nothrow_swappable_v<T>) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    using std::swap;
    swap(items[i - 1], items[j]);
  }
}

// kRandomNodes over positions 0..n-1: up to k distinct positions p with exclude(p) false.
// As in memberlist, when n < 3k the positions are shuffled and scanned exhaustively (so every
// eligible one is found); otherwise up to 3n random draws are made, so with few eligible
// entries fewer than k may be returned. The result is in pick order.
template <class Exclude>
std::vector<std::size_t> k_random_indices(std::size_t k, std::size_t n, Exclude &&exclude,
                                          Rng &rng) {
  std::vector<std::size_t> picked;
  if (k == 0) return picked;
  picked.reserve(k < n ? k : n);
  if (n < k * 3) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    shuffle(std::span<std::size_t>(order), rng);
    for (std::size_t idx : order) {
      if (picked.size() >= k) break;
      if (!exclude(idx)) picked.push_back(idx);
    }
    return picked;
  }
  for (std::size_t draw = 0; draw < 3 * n && picked.size() < k; ++draw) {
    const std::size_t idx = random_offset(n, rng);
    if (exclude(idx)) continue;
    bool seen = false;
    for (std::size_t p : picked) seen = seen || (p == idx);
    if (!seen) picked.push_back(idx);
  }
  return picked;
}

// kRandomNodes with a node-selection delegate (grafana/memberlist's NodeSelectionDelegate, used
// for gossip and push/pull targets): `preferred`, when given, k > 0 and not excluded, is picked
// first; the rest are picked by k_random_indices among the positions in `pool` (what the
// delegate selected), skipping excluded ones and the preferred one. Positions are the caller's
// (the member table's), so the result is in pick order, preferred first. `pool` must hold
// distinct positions. With no preferred this draws from rng exactly as k_random_indices over
// pool.size() entries would.
template <class Exclude>
std::vector<std::size_t> k_random_selected(std::size_t k, std::span<const std::size_t> pool,
                                           std::optional<std::size_t> preferred, Exclude &&exclude,
                                           Rng &rng) {
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> picked;
  if (k == 0) return picked;
  const std::size_t first = (preferred && !exclude(*preferred)) ? *preferred : kNone;
  if (first != kNone) picked.push_back(first);
  if (picked.size() >= k) return picked;
  const auto rest = k_random_indices(
      k - picked.size(), pool.size(),
      [&](std::size_t i) -> bool { return pool[i] == first || exclude(pool[i]); }, rng);
  picked.reserve(picked.size() + rest.size());
  for (std::size_t i : rest) picked.push_back(pool[i]);
  return picked;
}

}  // namespace memberlist::state
