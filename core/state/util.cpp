// Implementation of core/state/util.hpp (memberlist util.go formulas and randomness helpers).
#include "state/util.hpp"

#include <algorithm>
#include <cmath>

namespace memberlist::state {

namespace {

std::uint64_t splitmix64(std::uint64_t &x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t v, int r) noexcept {
  return (v << r) | (v >> (64 - r));
}

}  // namespace

void Rng::reseed(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (auto &w : s_) w = splitmix64(x);
}

Rng::result_type Rng::operator()() noexcept {
  const std::uint64_t out = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return out;
}

std::uint64_t Rng::below(std::uint64_t n) noexcept {
  if (n == 0) return 0;
  // Rejection sampling on the top of the range: accept v < limit, limit a multiple of n.
  const std::uint64_t limit = max() - (max() % n + 1) % n;
  for (;;) {
    const std::uint64_t v = (*this)();
    if (v <= limit) return v % n;
  }
}

std::chrono::nanoseconds suspicion_timeout(int suspicion_mult, std::size_t n,
                                           std::chrono::nanoseconds interval) noexcept {
  const double nodes = std::max(1.0, static_cast<double>(n));
  const double scale = std::max(1.0, std::log10(nodes));
  // Keep three decimals of the scale, then do the rest in integers (wrapping like Go's int64).
  const auto milli = static_cast<std::int64_t>(scale * 1000.0);
  const std::uint64_t product = static_cast<std::uint64_t>(static_cast<std::int64_t>(suspicion_mult)) *
                                static_cast<std::uint64_t>(milli) *
                                static_cast<std::uint64_t>(interval.count());
  return std::chrono::nanoseconds(static_cast<std::int64_t>(product) / 1000);
}

int retransmit_limit(int retransmit_mult, std::size_t n) noexcept {
  const double scale = std::ceil(std::log10(static_cast<double>(n) + 1.0));
  return retransmit_mult * static_cast<int>(scale);
}

std::chrono::nanoseconds push_pull_scale(std::chrono::nanoseconds interval, std::size_t n) noexcept {
  if (n <= kPushPullScaleThreshold) return interval;
  const double mult =
      std::ceil(std::log2(static_cast<double>(n)) -
                std::log2(static_cast<double>(kPushPullScaleThreshold))) +
      1.0;
  return static_cast<std::int64_t>(mult) * interval;
}

std::size_t random_offset(std::size_t n, Rng &rng) noexcept {
  if (n == 0) return 0;
  const auto m = static_cast<std::uint32_t>(n);
  if (m == 0) return 0;  // n a multiple of 2^32: Go would divide by zero; stay defined
  return static_cast<std::size_t>(rng.next_u32() % m);
}

std::chrono::nanoseconds random_stagger(std::chrono::nanoseconds d, Rng &rng) noexcept {
  if (d.count() <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(d.count()))));
}

}  // namespace memberlist::state
