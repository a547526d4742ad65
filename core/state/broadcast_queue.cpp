// Implementation of core/state/broadcast_queue.hpp.
#include "state/broadcast_queue.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

#include "state/member_table.hpp"
#include "state/util.hpp"
#include "wire/codec.hpp"

namespace memberlist::state {

MemberlistBroadcast::MemberlistBroadcast(std::string_view node, wire::ByteView msg,
                                         std::function<void()> on_finished)
    : buf_(std::make_unique_for_overwrite<std::uint8_t[]>(msg.size() + node.size())),
      msg_len_(static_cast<std::uint32_t>(msg.size())),
      node_len_(static_cast<std::uint32_t>(node.size())),
      on_finished_(on_finished ? std::make_unique<std::function<void()>>(std::move(on_finished)) : nullptr) {
  if (!msg.empty()) std::memcpy(buf_.get(), msg.data(), msg.size());
  if (!node.empty()) std::memcpy(buf_.get() + msg.size(), node.data(), node.size());
}

void MemberlistBroadcast::finished() noexcept {
  if (on_finished_ && *on_finished_) (*on_finished_)();
}

bool MemberlistBroadcast::invalidates(const Broadcast &other) const {
  const auto *mb = dynamic_cast<const MemberlistBroadcast *>(&other);
  return mb != nullptr && mb->node() == node();
}

std::int64_t TransmitLimitedQueue::next_id() noexcept {
  if (id_gen_ == std::numeric_limits<std::int64_t>::max()) {
    id_gen_ = 1;
  } else {
    ++id_gen_;
  }
  return id_gen_;
}

void TransmitLimitedQueue::idle_check() noexcept {
  if (items_.empty()) id_gen_ = 0;
}

namespace {
constexpr std::uintptr_t kIndexed = 4;  // the kind is the low two bits
[[maybe_unused]] constexpr std::uintptr_t kTagMask = 7;  // checked in debug builds
}  // namespace

TransmitLimitedQueue::Item::Item(Key k, Kind kind, bool indexed, Broadcast *owned) noexcept
    : key(k), p_(reinterpret_cast<std::uintptr_t>(owned) | static_cast<std::uintptr_t>(kind) | (indexed ? kIndexed : 0)) {
  assert((reinterpret_cast<std::uintptr_t>(owned) & kTagMask) == 0 && kind != Kind::MemberAlive);
}

TransmitLimitedQueue::Item::Item(Key k, const Member *m) noexcept
    : key(k), p_(reinterpret_cast<std::uintptr_t>(m) | static_cast<std::uintptr_t>(Kind::MemberAlive) | kIndexed) {
  assert((reinterpret_cast<std::uintptr_t>(m) & kTagMask) == 0);
}

TransmitLimitedQueue::Item &TransmitLimitedQueue::Item::operator=(Item &&o) noexcept {
  if (this != &o) {
    reset();
    key = o.key;
    p_ = std::exchange(o.p_, 0);
  }
  return *this;
}

void TransmitLimitedQueue::Item::reset() noexcept {
  delete broadcast();  // null for a member alive (not owned) and for an empty item
  p_ = 0;
}

std::unique_ptr<Broadcast> TransmitLimitedQueue::Item::release_broadcast() noexcept {
  std::unique_ptr<Broadcast> out(broadcast());
  p_ = 0;
  return out;
}

std::string_view TransmitLimitedQueue::Item::name() const {
  if (const Member *m = member()) return m->name();
  return indexed() ? *broadcast()->name() : std::string_view{};
}

std::uint32_t TransmitLimitedQueue::Item::name_hash() const {
  if (const Member *m = member()) return m->name_hash();
  return hash_name(name());
}

std::uint32_t TransmitLimitedQueue::Item::size_now() const {
  if (kind() == Kind::MemberAlive) return key.msg_len;
  return static_cast<std::uint32_t>(broadcast()->message().size());
}

std::unique_ptr<Broadcast> TransmitLimitedQueue::take(Set::iterator it) {
  if (it->indexed()) names_.erase(it->name_hash(), [it](Set::const_iterator v) noexcept { return v == it; });
  if (it->kind() == Kind::MemberAlive) --member_alives_;
  auto node = items_.extract(it);
  return node.value().release_broadcast();
}

void TransmitLimitedQueue::insert(Item item) {
  auto [pos, inserted] = items_.insert(std::move(item));
  assert(inserted && "queue ids are unique");
  (void)inserted;
  if (pos->indexed()) names_.insert(pos, pos->name_hash());
  if (pos->kind() == Kind::MemberAlive) ++member_alives_;
}

void TransmitLimitedQueue::finish_all(std::vector<std::unique_ptr<Broadcast>> &done) noexcept {
  for (auto &b : done) {
    if (b) b->finished();
  }
  done.clear();
}

std::vector<TransmitLimitedQueue::Set::iterator> TransmitLimitedQueue::victims(Kind kind, std::string_view name,
                                                                               const Broadcast *b) {
  std::vector<Set::iterator> out;
  if ((kind == Kind::Named || kind == Kind::MemberAlive) && !name.empty()) {
    if (const auto *found =
            names_.find(hash_name(name), [&](Set::const_iterator v) { return v->name() == name; })) {
      out.push_back(*found);
    }
  } else if (kind != Kind::Unique) {
    for (auto it = items_.begin(); it != items_.end(); ++it) {
      if (it->kind() == Kind::Plain && b->invalidates(*it->broadcast())) out.push_back(it);
    }
  }
  return out;
}

void TransmitLimitedQueue::enqueue(Item item, const std::vector<Set::iterator> &gone) {
  std::vector<std::unique_ptr<Broadcast>> done;
  done.reserve(gone.size());
  for (auto it : gone) done.push_back(take(it));
  idle_check();
  item.key.id = next_id();
  insert(std::move(item));
  finish_all(done);
}

void TransmitLimitedQueue::queue(std::unique_ptr<Broadcast> b, int initial_transmits) {
  if (!b) return;
  Kind kind = Kind::Plain;
  std::string_view name;
  if (auto n = b->name()) {
    kind = Kind::Named;
    name = *n;
  } else if (b->unique()) {
    kind = Kind::Unique;
  }
  // Collected before touching the queue: invalidates() may throw.
  const auto gone = victims(kind, name, b.get());
  const Key key{0, initial_transmits, static_cast<std::uint32_t>(b->message().size())};
  enqueue(Item(key, kind, kind == Kind::Named && !name.empty(), b.release()), gone);
}

bool TransmitLimitedQueue::queue_member_alive(const Member &m, std::size_t msg_len) {
  if (m.name().empty()) return false;
  const auto gone = victims(Kind::MemberAlive, m.name(), nullptr);
  enqueue(Item(Key{0, 0, static_cast<std::uint32_t>(msg_len)}, &m), gone);
  return true;
}

void TransmitLimitedQueue::forget_member(const Member &m) noexcept {
  if (m.name().empty()) return;
  // Compared by address only: nothing about the entry is read but its cached hash.
  const auto *found = names_.find(m.name_hash(), [&m](Set::const_iterator v) noexcept { return v->member() == &m; });
  if (found == nullptr) return;
  (void)take(*found);  // a member alive has nothing to finish
  idle_check();
}

std::pair<int, int> TransmitLimitedQueue::transmit_range() const noexcept {
  if (items_.empty()) return {0, 0};
  return {items_.begin()->key.transmits, std::prev(items_.end())->key.transmits};
}

std::vector<TransmitLimitedQueue::Set::const_iterator> TransmitLimitedQueue::select(
    std::int64_t overhead, std::int64_t limit, std::int64_t &bytes_used) const {
  std::vector<Set::const_iterator> chosen;
  bytes_used = 0;
  if (items_.empty()) return chosen;

  const auto [lo, hi] = transmit_range();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  Set::const_iterator last = items_.end();  // the last entry chosen in the current tier
  for (int tier = lo; tier <= hi;) {
    const std::int64_t free = limit - bytes_used - overhead;
    if (free <= 0) break;

    // First entry of this tier no longer than `free`: sizes descend within a tier.
    auto it = items_.lower_bound(
        Key{kMax, tier, static_cast<std::uint32_t>(std::min<std::int64_t>(free, std::numeric_limits<std::uint32_t>::max()))});
    // Everything from that point up to the last pick in this tier is already taken.
    if (last != items_.end() && it != items_.end() && !Less::less(last->key, it->key)) {
      it = std::next(last);
    }
    Set::const_iterator pick = items_.end();
    for (; it != items_.end() && it->key.transmits == tier; ++it) {
      // A message that grew since it was queued is skipped, as in Go.
      if (static_cast<std::int64_t>(it->size_now()) > free) continue;
      pick = it;
      break;
    }
    if (pick == items_.end()) {
      ++tier;
      last = items_.end();
      continue;
    }
    bytes_used += overhead + static_cast<std::int64_t>(pick->size_now());
    chosen.push_back(pick);
    last = pick;
  }
  return chosen;
}

std::int64_t TransmitLimitedQueue::peek_bytes(std::int64_t overhead, std::int64_t limit) const {
  std::int64_t used = 0;
  (void)select(overhead, limit, used);
  return used;
}

std::int64_t TransmitLimitedQueue::append_broadcasts(std::int64_t overhead, std::int64_t limit,
                                                     std::size_t num_nodes,
                                                     std::vector<wire::Bytes> &out) {
  if (items_.empty()) return 0;
  const int transmit_limit = retransmit_limit(mult_, num_nodes);

  std::int64_t used = 0;
  const auto chosen = select(overhead, limit, used);
  if (chosen.empty()) return 0;

  out.reserve(out.size() + chosen.size());
  // A re-queued named entry keeps its names_ slot, repointed after the re-insert: one lookup per
  // message instead of an erase and an insert (a hash each), per transmit. Finished entries leave
  // the index first, since removing a slot moves others; the slots of re-queued ones are found
  // after that, and stay put while their nodes are out of the set.
  std::vector<std::unique_ptr<Broadcast>> done;
  std::vector<bool> finishing(chosen.size());
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const auto it = chosen[k];
    finishing[k] = it->key.transmits + 1 >= transmit_limit;
    if (const Member *m = it->member()) {
      // Encoded now from the entry; one that changed without a new broadcast (which the
      // protocol's rules exclude) is dropped rather than sent as other bytes than were queued.
      wire::Bytes msg = wire::encode(alive_of(*m));
      if (m->state != NodeState::Alive || msg.size() != it->key.msg_len) {
        ++stale_dropped_;
        finishing[k] = true;
      } else {
        out.push_back(std::move(msg));
      }
    } else {
      const wire::ByteView msg = it->broadcast()->message();
      out.emplace_back(msg.begin(), msg.end());
    }
    if (finishing[k] && it->indexed()) {
      names_.erase(it->name_hash(), [it](Set::const_iterator v) noexcept { return v == it; });
    }
  }
  std::vector<std::pair<Set::node_type, Set::const_iterator *>> again;
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const auto it = chosen[k];
    if (finishing[k]) {
      if (it->kind() == Kind::MemberAlive) --member_alives_;
      done.push_back(items_.extract(it).value().release_broadcast());
      continue;
    }
    Set::const_iterator *slot =
        it->indexed() ? names_.find(it->name_hash(), [it](Set::const_iterator v) noexcept { return v == it; })
                      : nullptr;
    auto node = items_.extract(it);
    ++node.value().key.transmits;
    again.emplace_back(std::move(node), slot);
  }
  for (auto &[node, slot] : again) {
    auto res = items_.insert(std::move(node));
    assert(res.inserted && "queue ids are unique");
    if (slot != nullptr) *slot = res.position;
  }
  idle_check();
  finish_all(done);
  return used;
}

TransmitLimitedQueue::Batch TransmitLimitedQueue::get_broadcasts(std::int64_t overhead,
                                                                 std::int64_t limit,
                                                                 std::size_t num_nodes) {
  Batch batch;
  batch.bytes_used = append_broadcasts(overhead, limit, num_nodes, batch.messages);
  return batch;
}

void TransmitLimitedQueue::reset() {
  std::vector<std::unique_ptr<Broadcast>> done;
  done.reserve(items_.size());
  while (!items_.empty()) done.push_back(take(items_.begin()));
  names_.clear();
  id_gen_ = 0;
  finish_all(done);
}

void TransmitLimitedQueue::prune(std::size_t max_retain) {
  std::vector<std::unique_ptr<Broadcast>> done;
  while (items_.size() > max_retain) done.push_back(take(std::prev(items_.end())));
  idle_check();
  finish_all(done);
}

std::vector<TransmitLimitedQueue::Entry> TransmitLimitedQueue::ordered_view() const {
  std::vector<Entry> out;
  out.reserve(items_.size());
  for (const auto &item : items_) {
    out.push_back(Entry{item.key.transmits, static_cast<std::int64_t>(item.key.msg_len), item.key.id,
                        item.broadcast(), item.member()});
  }
  return out;
}

SharedBatch get_broadcasts_shared(TransmitLimitedQueue &first, std::int64_t first_overhead,
                                  std::size_t first_num_nodes, TransmitLimitedQueue &second,
                                  std::int64_t second_overhead, std::size_t second_num_nodes,
                                  std::int64_t limit, std::int64_t second_share) {
  SharedBatch out;
  const std::int64_t share = std::clamp<std::int64_t>(second_share, 0, std::max<std::int64_t>(limit, 0));
  const std::int64_t reserved = share > 0 ? second.peek_bytes(second_overhead, share) : 0;
  const std::int64_t used1 =
      first.append_broadcasts(first_overhead, limit - reserved, first_num_nodes, out.first);
  const std::int64_t used2 =
      second.append_broadcasts(second_overhead, limit - used1, second_num_nodes, out.second);
  out.bytes_used = used1 + used2;
  return out;
}

}  // namespace memberlist::state
