// The node table of memberlist (Memberlist.nodes / nodeMap / probeIndex / numNodes in
// memberlist.go and state.go): one record per name, a probe list in which new nodes are placed at
// a random position, the round-robin probe walk that skips ourselves and Dead/Left nodes and reaps
// and reshuffles on wrap-around (probe, resetNodes, moveDeadNodes), kRandomNodes, NumMembers and
// the node-count estimate. WIRE.md §6.2, §6.3, §6.7.
//
// Plain data: the alive/suspect/dead rules live in core/protocol. Records live in slots that never
// move, so a Member& / Member* stays valid until that member is reaped (or the table is destroyed).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <compare>
#include <iterator>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "state/open_index.hpp"
#include "state/util.hpp"
#include "wire/bytes.hpp"
#include "wire/messages.hpp"

namespace memberlist::state {

using NodeState = wire::NodeState;
using TimePoint = std::chrono::steady_clock::time_point;

const char *node_state_name(NodeState s) noexcept;

// Go's nodeState (Node + Incarnation + State + StateChange), in 64 bytes: every node holds one of
// these for every other node, so at 10,000 nodes the table is 10^8 of them. The name, address and
// metadata share one buffer, inside the record when they fit (kInline bytes: a 24-character name
// with an IPv4 address), else in one heap block. Once stored in a MemberTable, every field but
// the name may be changed in place (address and metadata through their setters).
class Member {
 public:
  static constexpr std::size_t kInline = 28;

  Member() noexcept : Member(std::string_view{}) {}
  explicit Member(std::string_view name);
  Member(const Member &o);
  Member(Member &&o) noexcept;
  Member &operator=(const Member &o);
  Member &operator=(Member &&o) noexcept;
  ~Member() { release(); }

  std::string_view name() const noexcept { return {data(), name_len_}; }
  std::string name_str() const { return std::string(name()); }
  // std::hash of the name (truncated), cached for the table's index.
  std::uint32_t name_hash() const noexcept { return hash_; }

  // Addr and Meta, verbatim; has_*() false for a Go nil slice (an empty view either way).
  wire::ByteView addr() const noexcept { return {bytes() + name_len_, addr_len_}; }
  bool has_addr() const noexcept { return (flags_ & kHasAddr) != 0; }
  wire::ByteView meta() const noexcept { return {bytes() + name_len_ + addr_len_, meta_len_}; }
  bool has_meta() const noexcept { return (flags_ & kHasMeta) != 0; }
  wire::OptSmallBytes addr_opt() const;
  wire::OptBytes meta_opt() const;
  // An address longer than 255 bytes is cut to 255 (the wire layer refuses such packets first).
  void set_addr(std::optional<wire::ByteView> a);
  void set_meta(std::optional<wire::ByteView> m);
  template <class Opt>
  void set_addr_opt(const Opt &a) {
    set_addr(a ? std::optional<wire::ByteView>(wire::ByteView(a->data(), a->size())) : std::nullopt);
  }
  template <class Opt>
  void set_meta_opt(const Opt &m) {
    set_meta(m ? std::optional<wire::ByteView>(wire::ByteView(m->data(), m->size())) : std::nullopt);
  }

  TimePoint state_change{};
  std::uint32_t incarnation = 0;
  std::uint16_t port = 0;
  // pmin pmax pcur dmin dmax dcur; zero until an alive with ≥ 6 Vsn bytes was seen.
  std::array<std::uint8_t, 6> vsn{};
  NodeState state = NodeState::Dead;  // memberlist creates entries Dead, then applies the alive

 private:
  std::uint8_t addr_len_ = 0;
  std::uint8_t flags_ = 0;

 public:
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

 private:
  static constexpr std::uint8_t kHasAddr = 1, kHasMeta = 2;
  std::size_t total() const noexcept { return std::size_t{name_len_} + addr_len_ + meta_len_; }
  bool on_heap() const noexcept { return total() > kInline; }
  char *heap() const noexcept;
  const char *data() const noexcept { return on_heap() ? heap() : buf_; }
  const std::uint8_t *bytes() const noexcept { return reinterpret_cast<const std::uint8_t *>(data()); }
  // Replaces the buffer with name + addr + meta (any may alias the current buffer).
  void rebuild(std::string_view name, wire::ByteView addr, wire::ByteView meta);
  void release() noexcept;

  std::uint32_t hash_ = 0;
  std::uint32_t name_len_ = 0;
  std::uint32_t meta_len_ = 0;
  char buf_[kInline]{};  // the bytes, or (when on_heap()) a char* to them, unaligned
};
static_assert(sizeof(Member) == 64, "a member entry is one cache line");

// The alive message that states m as it is now: its incarnation, name, address, port, metadata
// and the six version bytes (what refutation and the queued member alives send).
wire::Alive alive_of(const Member &m);

// A view of the table's members in probe-list order (invalidated by insert and reaping).
template <class M>
class MemberRange {
  using List = std::vector<Member *>;

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
    pointer operator->() const { return *it_; }
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

struct MemberHashOf {
  std::uint32_t operator()(const Member *m) const noexcept { return m->name_hash(); }
};

// Where a table's records live: fixed slots in chunks that never move (so a Member* stays valid),
// reused through a free list, without a heap header per record.
class MemberSlab {
 public:
  MemberSlab() = default;
  MemberSlab(const MemberSlab &) = delete;
  MemberSlab &operator=(const MemberSlab &) = delete;
  MemberSlab(MemberSlab &&) noexcept = default;
  MemberSlab &operator=(MemberSlab &&) noexcept = default;
  Member *acquire(Member &&m);
  void release(Member *m) noexcept;

 private:
  std::vector<std::unique_ptr<Member[]>> chunks_;
  std::size_t last_used_ = 0;  // slots handed out from the last chunk
  std::size_t last_size_ = 0;
  std::vector<Member *> free_;
};

class MemberTable {
  using List = std::vector<Member *>;

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

  // Called with each record reap_and_shuffle is about to remove, while it is still in its slot
  // (the broadcast queue drops an alive that refers to it: TransmitLimitedQueue::forget_member).
  void set_reap_hook(std::function<void(const Member &)> hook) { reap_hook_ = std::move(hook); }

  // kRandomNodes: up to k distinct random members for which exclude(member) is false.
  template <class Exclude>
  std::vector<Member *> k_random_members(std::size_t k, Rng &rng, Exclude &&exclude) {
    std::vector<Member *> out;
    const auto idx = k_random_indices(
        k, list_.size(), [&](std::size_t i) -> bool { return exclude(std::as_const(*list_[i])); },
        rng);
    out.reserve(idx.size());
    for (std::size_t i : idx) out.push_back(list_[i]);
    return out;
  }
  // Convenience: members in one of the listed states, never ourselves, and none of `skip`.
  std::vector<Member *> k_random_members(std::size_t k, Rng &rng,
                                         std::initializer_list<NodeState> states,
                                         std::initializer_list<std::string_view> skip = {});

 private:
  std::string local_name_;
  MemberSlab slab_;
  List list_;
  OpenIndex<Member *, MemberHashOf> by_name_;
  std::size_t probe_index_ = 0;
  std::function<void(const Member &)> reap_hook_;
};

}  // namespace memberlist::state
