// The node table of memberlist (Memberlist.nodes / nodeMap / probeIndex / numNodes in
// memberlist.go and state.go): one record per name, a probe list in which new nodes are placed at
// a random position, the round-robin probe walk that skips ourselves and Dead/Left nodes and reaps
// and reshuffles on wrap-around (probe, resetNodes, moveDeadNodes), kRandomNodes, NumMembers and
// the node-count estimate. WIRE.md §6.2, §6.3, §6.7.
//
// Plain data: the alive/suspect/dead rules live in core/protocol. Records are heap-allocated, so
// a Member& / Member* stays valid until that member is reaped (or the table is destroyed).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <compare>
#include <iterator>
#include <type_traits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "state/util.hpp"
#include "wire/bytes.hpp"
#include "wire/messages.hpp"

namespace memberlist::state {

using NodeState = wire::NodeState;
using TimePoint = std::chrono::steady_clock::time_point;

const char *node_state_name(NodeState s) noexcept;

// Go's nodeState (Node + Incarnation + State + StateChange). Once stored in a MemberTable, every
// field but `name` may be changed in place.
struct Member {
  std::string name;
  wire::OptBytes addr;   // 4 or 16 bytes, verbatim as received (compared byte-wise)
  std::uint16_t port = 0;
  wire::OptBytes meta;
  // pmin pmax pcur dmin dmax dcur; zero until an alive with ≥ 6 Vsn bytes was seen.
  std::array<std::uint8_t, 6> vsn{};
  std::uint32_t incarnation = 0;
  NodeState state = NodeState::Dead;  // memberlist creates entries Dead, then applies the alive
  TimePoint state_change{};

  bool dead_or_left() const noexcept {
    return state == NodeState::Dead || state == NodeState::Left;
  }
  std::uint8_t pmin() const noexcept { return vsn[0]; }
  std::uint8_t pmax() const noexcept { return vsn[1]; }
  std::uint8_t pcur() const noexcept { return vsn[2]; }
  std::uint8_t dmin() const noexcept { return vsn[3]; }
  std::uint8_t dmax() const noexcept { return vsn[4]; }
  std::uint8_t dcur() const noexcept { return vsn[5]; }
  // Stores the six version bytes when v has more than 5 (as memberlist does); else leaves them.
  void set_vsn(wire::ByteView v) noexcept;
  // Sets state and state_change together.
  void set_state(NodeState s, TimePoint now) noexcept {
    state = s;
    state_change = now;
  }
};

// A view of the table's members in probe-list order (invalidated by insert and reaping).
template <class M>
class MemberRange {
  using List = std::vector<std::unique_ptr<Member>>;

 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::remove_const_t<M>;
    using difference_type = std::ptrdiff_t;
    using pointer = M *;
    using reference = M &;

    iterator() = default;
    explicit iterator(List::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    iterator &operator++() { ++it_; return *this; }
    iterator operator++(int) { auto old = *this; ++it_; return old; }
    iterator &operator--() { --it_; return *this; }
    iterator operator--(int) { auto old = *this; --it_; return old; }
    iterator &operator+=(difference_type n) { it_ += n; return *this; }
    iterator &operator-=(difference_type n) { it_ -= n; return *this; }
    friend iterator operator+(iterator a, difference_type n) { return a += n; }
    friend iterator operator+(difference_type n, iterator a) { return a += n; }
    friend iterator operator-(iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const iterator &a, const iterator &b) { return a.it_ - b.it_; }
    reference operator[](difference_type n) const { return *it_[n]; }
    friend bool operator==(const iterator &, const iterator &) = default;
    friend auto operator<=>(const iterator &, const iterator &) = default;

   private:
    List::const_iterator it_{};
  };

  explicit MemberRange(const List &l) noexcept : list_(&l) {}
  iterator begin() const noexcept { return iterator(list_->begin()); }
  iterator end() const noexcept { return iterator(list_->end()); }
  std::size_t size() const noexcept { return list_->size(); }
  bool empty() const noexcept { return list_->empty(); }

 private:
  const List *list_;
};

class MemberTable {
  using List = std::vector<std::unique_ptr<Member>>;

 public:
  // local_name: our own node name (Config.Name), skipped by the probe walk.
  explicit MemberTable(std::string local_name) : local_name_(std::move(local_name)) {}
  MemberTable(const MemberTable &) = delete;
  MemberTable &operator=(const MemberTable &) = delete;
  MemberTable(MemberTable &&) noexcept = default;
  MemberTable &operator=(MemberTable &&) noexcept = default;

  const std::string &local_name() const noexcept { return local_name_; }
  Member *local() noexcept { return find(local_name_); }
  const Member *local() const noexcept { return find(local_name_); }

  // O(1) average.
  Member *find(std::string_view name) noexcept;
  const Member *find(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  // Adds a member whose name is not yet known, as memberlist does: appended, then swapped with
  // the entry at random_offset(old size) (so the displaced entry moves to the end). Returns the
  // stored record and true; if the name is already known, returns that record and false and
  // changes nothing. The probe index is not adjusted (nor is it in memberlist).
  std::pair<Member &, bool> insert(Member m, Rng &rng);

  // Entries in probe-list order.
  std::size_t size() const noexcept { return list_.size(); }
  bool empty() const noexcept { return list_.empty(); }
  Member &at(std::size_t i) noexcept { return *list_[i]; }
  const Member &at(std::size_t i) const noexcept { return *list_[i]; }
  MemberRange<const Member> members() const noexcept { return MemberRange<const Member>(list_); }
  MemberRange<Member> members() noexcept { return MemberRange<Member>(list_); }

  // estNumNodes: every entry, ourselves and not-yet-reaped Dead/Left ones included. This is the
  // n of suspicion_timeout, retransmit_limit and push_pull_scale.
  std::size_t estimated_nodes() const noexcept { return list_.size(); }
  // NumMembers: entries that are neither Dead nor Left (Suspect counts), ourselves included. O(n).
  std::size_t num_members() const noexcept;
  // Same as num_members(): memberlist's docs call these "alive nodes" though Suspect ones count.
  std::size_t num_alive() const noexcept { return num_members(); }
  // Entries in exactly state s. O(n).
  std::size_t count(NodeState s) const noexcept;

  // One step of memberlist's probe(): walks the list from the probe index, skipping ourselves
  // and Dead/Left entries; when the index runs off the end, reaps and shuffles (reap_and_shuffle)
  // and starts over at 0. Gives up after considering as many positions as the list holds.
  // `reaped` receives the records removed by any wrap-around during this call.
  struct ProbeStep {
    Member *target = nullptr;  // null: nobody to probe this tick
    std::vector<Member> reaped;
    bool wrapped = false;
  };
  ProbeStep next_probe(TimePoint now, std::chrono::nanoseconds gossip_to_the_dead, Rng &rng);
  std::size_t probe_index() const noexcept { return probe_index_; }
  void set_probe_index(std::size_t i) noexcept { probe_index_ = i; }

  // resetNodes: removes Dead and Left entries whose state changed more than gossip_to_the_dead
  // before now (a change exactly that long ago is kept), then shuffles the rest. Returns the
  // removed records. Does not touch the probe index (next_probe resets it to 0).
  std::vector<Member> reap_and_shuffle(TimePoint now, std::chrono::nanoseconds gossip_to_the_dead,
                                       Rng &rng);
  void shuffle(Rng &rng);

  // kRandomNodes: up to k distinct random members for which exclude(member) is false.
  template <class Exclude>
  std::vector<Member *> k_random_members(std::size_t k, Rng &rng, Exclude &&exclude) {
    std::vector<Member *> out;
    const auto idx = k_random_indices(
        k, list_.size(), [&](std::size_t i) -> bool { return exclude(std::as_const(*list_[i])); },
        rng);
    out.reserve(idx.size());
    for (std::size_t i : idx) out.push_back(list_[i].get());
    return out;
  }
  // Convenience: members in one of the listed states, never ourselves, and none of `skip`.
  std::vector<Member *> k_random_members(std::size_t k, Rng &rng,
                                         std::initializer_list<NodeState> states,
                                         std::initializer_list<std::string_view> skip = {});

 private:
  // Deliberately not noexcept: libstdc++ then stores each node's hash code, so a lookup walks
  // its bucket comparing stored codes. With a noexcept hash it rehashes every node it passes
  // (to find the bucket's end), a cache miss and a string hash each: in a 512-node process
  // that was ~15% of every loop's CPU, gossip decoding alive messages.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };

  std::string local_name_;
  List list_;
  std::unordered_map<std::string, Member *, NameHash, std::equal_to<>> by_name_;
  std::size_t probe_index_ = 0;
};

}  // namespace memberlist::state
