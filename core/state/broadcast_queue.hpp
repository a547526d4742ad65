// The gossip broadcast queue: memberlist's TransmitLimitedQueue (queue.go) and its Broadcast,
// NamedBroadcast and UniqueBroadcast interfaces, plus memberlist's own memberlistBroadcast
// (broadcast.go). WIRE.md §6.4.
//
//  - Priority: fewest transmits first; within a tier the longest message, then the newest.
//  - A named broadcast replaces the queued one with the same name; a plain broadcast removes every
//    queued plain broadcast it invalidates(); unique broadcasts never invalidate anything, and
//    named/unique ones are never invalidated by plain ones. Replaced entries get finished().
//  - get_broadcasts fills a byte budget (each message costs overhead + size), taking per tier the
//    largest message that still fits, so smaller ones may follow a skipped large one. Each taken
//    message counts a transmit; at retransmit_limit(mult, num_nodes) it leaves with finished().
//
// Differences from Go, all deliberate:
//  - finished() is called after the queue is back in a consistent state, so it may call back
//    into the queue (Go calls it under the queue mutex). It must not destroy the queue.
//  - Ids are unique among queued entries. Go resets its id counter whenever its tree empties,
//    even in the middle of an operation, which can hand out an id that a queued entry still has;
//    the newer entry then silently replaces the older one in the btree (lost, never finished).
//    Here the counter restarts only when the queue is empty at the end of an operation, and a
//    queue() that empties the queue by invalidation gives the new entry id 1.
//  - The queue is single-threaded (the protocol owns it on one loop); no internal mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "state/open_index.hpp"
#include "wire/bytes.hpp"

namespace memberlist::state {

class Member;  // state/member_table.hpp

// Something that can be gossiped. Implementations may come from the protocol, the C API or a
// language binding; the queue owns them.
class Broadcast {
 public:
  virtual ~Broadcast() = default;

  // The bytes to send. The queue records its size when queued; the size must not grow later.
  // The view must stay valid while the broadcast is queued.
  virtual wire::ByteView message() const = 0;

  // Called exactly once when the queue drops the broadcast: invalidated, transmit limit reached,
  // pruned or reset. Not called for broadcasts still queued when the queue is destroyed.
  virtual void finished() noexcept {}

  // For plain broadcasts: whether queuing *this should drop the queued `other`.
  virtual bool invalidates(const Broadcast &other) const { (void)other; return false; }

  // A value makes this a NamedBroadcast: queuing it replaces the queued broadcast of that name
  // (invalidates() is then not consulted). An empty name is allowed and, as in Go, behaves like a
  // plain broadcast when queued but is still skipped by other plain broadcasts' scans. The queue
  // indexes the view itself: it must stay valid and unchanged while the broadcast is queued.
  virtual std::optional<std::string_view> name() const { return std::nullopt; }

  // UniqueBroadcast: never invalidates and is never invalidated. name() takes precedence.
  virtual bool unique() const { return false; }
};

// memberlist's own broadcast (memberlistBroadcast): a message about one node, named by it, with
// an optional callback when it is finished (memberlist's notify channel, e.g. for Leave).
// 32 bytes plus one exact-size buffer holding the message and the node's name; the rare callback
// is boxed. The alives a joining cluster queues (one per member on every node, N^2 in all) do not
// take this form: they refer to their member entry (TransmitLimitedQueue::queue_member_alive).
class MemberlistBroadcast final : public Broadcast {
 public:
  MemberlistBroadcast(std::string_view node, wire::ByteView msg, std::function<void()> on_finished = {});

  wire::ByteView message() const override { return {buf_.get(), msg_len_}; }
  void finished() noexcept override;
  // Any MemberlistBroadcast about the same node.
  bool invalidates(const Broadcast &other) const override;
  std::optional<std::string_view> name() const override { return node(); }

  std::string_view node() const noexcept {
    return {reinterpret_cast<const char *>(buf_.get()) + msg_len_, node_len_};
  }

 private:
  std::unique_ptr<std::uint8_t[]> buf_;  // message, then node name
  std::uint32_t msg_len_;
  std::uint32_t node_len_;
  std::unique_ptr<std::function<void()>> on_finished_;
};

class TransmitLimitedQueue {
 public:
  // retransmit_mult: Config.RetransmitMult.
  explicit TransmitLimitedQueue(int retransmit_mult = 4) noexcept : mult_(retransmit_mult) {}
  ~TransmitLimitedQueue() = default;
  TransmitLimitedQueue(const TransmitLimitedQueue &) = delete;
  TransmitLimitedQueue &operator=(const TransmitLimitedQueue &) = delete;
  TransmitLimitedQueue(TransmitLimitedQueue &&) noexcept = default;
  TransmitLimitedQueue &operator=(TransmitLimitedQueue &&) noexcept = default;

  int retransmit_mult() const noexcept { return mult_; }
  void set_retransmit_mult(int m) noexcept { mult_ = m; }

  // QueueBroadcast. initial_transmits > 0 starts the entry in a later tier (Go's test hook).
  // A null pointer is ignored.
  void queue(std::unique_ptr<Broadcast> b, int initial_transmits = 0);

  // A MemberlistBroadcast of the alive that states `m` as it is now (alive_of(m), msg_len bytes
  // encoded), named by m's name, kept as a reference to the entry instead of a copy of the bytes
  // and encoded again each time it is sent: a joining cluster queues one per member on every node,
  // and this is 24 bytes of queue where a copy is about 130. The caller guarantees what the
  // protocol's rules give: every later change to the entry comes with a broadcast of that name
  // (which replaces this one), and forget_member(m) is called before the entry is freed. Should
  // the entry no longer be Alive, or encode to another length, when it is sent, the broadcast is
  // dropped and counted (stale_dropped()) instead of sending other bytes than were queued.
  // An empty name is not indexed, so it is refused (false: queue a copy instead).
  bool queue_member_alive(const Member &m, std::size_t msg_len);
  // Drops, without finishing, a queued member alive that refers to m (see MemberTable's reap hook).
  void forget_member(const Member &m) noexcept;
  // Member alives dropped when sent because their entry had changed without a new broadcast.
  std::uint64_t stale_dropped() const noexcept { return stale_dropped_; }
  // How many of the queued entries are member alives.
  std::size_t num_member_alives() const noexcept { return member_alives_; }

  struct Batch {
    std::vector<wire::Bytes> messages;  // copies, in the order taken
    std::int64_t bytes_used = 0;        // Σ (overhead + size)
  };

  // GetBroadcasts: messages whose overhead + size fit in `limit` bytes in total. num_nodes feeds
  // retransmit_limit (memberlist passes its estimated node count). O(t · log n + m · log n) for t
  // transmit tiers and m messages taken. Negative or tiny budgets return nothing.
  Batch get_broadcasts(std::int64_t overhead, std::int64_t limit, std::size_t num_nodes);
  // The same, appending to `out`; returns the bytes used.
  std::int64_t append_broadcasts(std::int64_t overhead, std::int64_t limit, std::size_t num_nodes,
                                 std::vector<wire::Bytes> &out);

  // What get_broadcasts(overhead, limit, ·) would use, in bytes, without taking anything.
  std::int64_t peek_bytes(std::int64_t overhead, std::int64_t limit) const;

  std::size_t num_queued() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

  // Finishes and drops everything (in priority order).
  void reset();

  // Keeps the max_retain highest-priority entries; drops (and finishes) the rest, starting from
  // the lowest priority one: most transmits, then shortest, then oldest.
  void prune(std::size_t max_retain);

  // Introspection (tests, metrics): the entries in priority order, best first.
  struct Entry {
    int transmits;
    std::int64_t msg_len;
    std::int64_t id;
    const Broadcast *broadcast;  // null for a member alive
    const Member *member;        // the entry a member alive refers to; else null
  };
  std::vector<Entry> ordered_view() const;
  // The last id handed out (0 after the queue went idle).
  std::int64_t id_gen() const noexcept { return id_gen_; }
  // Lowest and highest transmit count present; {0, 0} when empty.
  std::pair<int, int> transmit_range() const noexcept;

 private:
  struct Key {
    std::int64_t id;
    std::int32_t transmits;
    std::uint32_t msg_len;  // messages are bounded far below 4 GiB (a packet or a stream frame)
  };
  enum class Kind : std::uint8_t { Plain = 0, Named = 1, Unique = 2, MemberAlive = 3 };
  // 24 bytes (a 64-byte set node): the key and one word that is either an owned Broadcast* or,
  // for a member alive, the entry's address, with the kind and `indexed` in its low bits. The
  // name, when there is one, and its hash are read from the broadcast or the entry.
  class Item {
   public:
    Key key;
    Item(Key k, Kind kind, bool indexed, Broadcast *owned) noexcept;
    Item(Key k, const Member *m) noexcept;
    Item(Item &&o) noexcept : key(o.key), p_(std::exchange(o.p_, 0)) {}
    Item &operator=(Item &&o) noexcept;
    Item(const Item &) = delete;
    Item &operator=(const Item &) = delete;
    ~Item() { reset(); }

    Kind kind() const noexcept { return static_cast<Kind>(p_ & 3u); }
    // Named with a non-empty name (and every member alive): present in names_.
    bool indexed() const noexcept { return (p_ & 4u) != 0; }
    Broadcast *broadcast() const noexcept {
      return kind() == Kind::MemberAlive ? nullptr : reinterpret_cast<Broadcast *>(p_ & ~std::uintptr_t{7});
    }
    const Member *member() const noexcept {
      return kind() == Kind::MemberAlive ? reinterpret_cast<const Member *>(p_ & ~std::uintptr_t{7}) : nullptr;
    }
    std::unique_ptr<Broadcast> release_broadcast() noexcept;
    std::string_view name() const;      // indexed ones only
    std::uint32_t name_hash() const;    // indexed ones only
    std::uint32_t size_now() const;     // the message's size now (key.msg_len for a member alive)

   private:
    void reset() noexcept;
    std::uintptr_t p_ = 0;
  };
  static_assert(sizeof(Key) == 16);
  struct Less {
    using is_transparent = void;
    static bool less(const Key &a, const Key &b) noexcept {
      if (a.transmits != b.transmits) return a.transmits < b.transmits;
      if (a.msg_len != b.msg_len) return a.msg_len > b.msg_len;
      return a.id > b.id;
    }
    bool operator()(const Item &a, const Item &b) const noexcept { return less(a.key, b.key); }
    bool operator()(const Item &a, const Key &b) const noexcept { return less(a.key, b); }
    bool operator()(const Key &a, const Item &b) const noexcept { return less(a, b.key); }
  };
  using Set = std::set<Item, Less>;
  static_assert(sizeof(Item) == 24, "the item is the queue's per-message cost");
  struct ItemHashOf {
    std::uint32_t operator()(Set::const_iterator it) const noexcept { return it->name_hash(); }
  };

  // The entries get_broadcasts would take, in order, and the bytes they cost. No mutation.
  std::vector<Set::const_iterator> select(std::int64_t overhead, std::int64_t limit,
                                          std::int64_t &bytes_used) const;
  std::int64_t next_id() noexcept;
  // Removes an entry (and its name) and hands back its broadcast (null for a member alive).
  std::unique_ptr<Broadcast> take(Set::iterator it);
  // The entries a new broadcast replaces: the queued one of its name, or (plain) those it
  // invalidates. `b` is consulted only for a plain scan.
  std::vector<Set::iterator> victims(Kind kind, std::string_view name, const Broadcast *b);
  // Takes the victims, gives item the next id, inserts it, then finishes the victims.
  void enqueue(Item item, const std::vector<Set::iterator> &victims);
  void insert(Item item);
  void idle_check() noexcept;
  static void finish_all(std::vector<std::unique_ptr<Broadcast>> &done) noexcept;

  int mult_;
  Set items_;
  OpenIndex<Set::const_iterator, ItemHashOf> names_;  // the indexed entries, by name
  std::int64_t id_gen_ = 0;
  std::uint64_t stale_dropped_ = 0;
  std::size_t member_alives_ = 0;
};

// Sharing one packet budget between two queues (e.g. memberlist's own broadcasts and user
// broadcasts) so that a flood in one cannot starve the other. `second_share` bytes of `limit`
// are reserved for `second`, but only as far as `second` can use them right now:
//   1. r = second.peek_bytes(second_overhead, min(second_share, limit));
//   2. `first` takes from a budget of limit − r;
//   3. `second` takes from whatever `first` left (at least r).
// Each queue is read once, so no message appears twice in one packet. second_share = 0 is
// memberlist's order: its own broadcasts first, then the user's with what remains. Per-queue
// overheads differ when one queue's messages get an extra frame byte (user messages: +1).
struct SharedBatch {
  std::vector<wire::Bytes> first;
  std::vector<wire::Bytes> second;
  std::int64_t bytes_used = 0;
};
SharedBatch get_broadcasts_shared(TransmitLimitedQueue &first, std::int64_t first_overhead,
                                  std::size_t first_num_nodes, TransmitLimitedQueue &second,
                                  std::int64_t second_overhead, std::size_t second_num_nodes,
                                  std::int64_t limit, std::int64_t second_share);

}  // namespace memberlist::state
