// Tests for core/state/open_index.hpp: lookups, growth and backward-shift deletion against a
// reference set, with hashes chosen to collide and to wrap around the end of the slot array.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

#include "state/open_index.hpp"

namespace memberlist::state {
namespace {

// Values are keys; the hash is a function of the key with few distinct values, so runs are long.
struct Hash {
  std::uint32_t mod;
  std::uint32_t operator()(int v) const noexcept { return static_cast<std::uint32_t>(v) % mod * 2654435761u + 13; }
};

void check_all(OpenIndex<int, Hash> &idx, const std::map<int, bool> &ref, Hash h) {
  std::size_t present = 0;
  for (const auto &entry : ref) {
    const int k = entry.first;
    const bool in = entry.second;
    const int *v = idx.find(h(k), [k](int x) noexcept { return x == k; });
    if (in) {
      ASSERT_NE(v, nullptr) << k;
      EXPECT_EQ(*v, k);
      ++present;
    } else {
      EXPECT_EQ(v, nullptr) << k;
    }
  }
  EXPECT_EQ(idx.size(), present);
}

TEST(OpenIndex, MatchesReferenceThroughCollidingChurn) {
  for (std::uint32_t mod : {1u, 3u, 64u, 1000003u}) {
    const Hash h{mod};
    OpenIndex<int, Hash> idx(h);
    std::map<int, bool> ref;
    std::mt19937 rng(mod);
    for (int step = 0; step < 4000; ++step) {
      const int k = static_cast<int>(rng() % 600) + 1;
      const bool in = ref[k];
      if (!in && rng() % 3 != 0) {
        idx.insert(k, h(k));
        ref[k] = true;
      } else {
        EXPECT_EQ(idx.erase(h(k), [k](int x) noexcept { return x == k; }), in);
        ref[k] = false;
      }
      if (step % 500 == 0) check_all(idx, ref, h);
    }
    check_all(idx, ref, h);
    idx.clear();
    EXPECT_TRUE(idx.empty());
    EXPECT_EQ(idx.find(h(1), [](int) noexcept { return true; }), nullptr);
  }
}

}  // namespace
}  // namespace memberlist::state
