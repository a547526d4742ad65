// Implementation of core/state/member_table.hpp.
#include "state/member_table.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace memberlist::state {

const char *node_state_name(NodeState s) noexcept {
  switch (s) {
    case NodeState::Alive: return "alive";
    case NodeState::Suspect: return "suspect";
    case NodeState::Dead: return "dead";
    case NodeState::Left: return "left";
  }
  return "unknown";
}

wire::Alive alive_of(const Member &m) {
  return wire::Alive{m.incarnation, m.name_str(), m.addr_opt(), m.port, m.meta_opt(),
                     wire::Bytes(m.vsn.begin(), m.vsn.end())};
}

Member::Member(std::string_view name) : hash_(hash_name(name)) {
  rebuild(name, {}, {});
}

Member::Member(const Member &o)
    : state_change(o.state_change), incarnation(o.incarnation), port(o.port), vsn(o.vsn), state(o.state),
      flags_(o.flags_), hash_(o.hash_) {
  rebuild(o.name(), o.addr(), o.meta());
}

Member::Member(Member &&o) noexcept
    : state_change(o.state_change), incarnation(o.incarnation), port(o.port), vsn(o.vsn), state(o.state),
      addr_len_(o.addr_len_), flags_(o.flags_), hash_(o.hash_), name_len_(o.name_len_),
      meta_len_(o.meta_len_) {
  std::memcpy(buf_, o.buf_, kInline);  // the inline bytes or the heap pointer: either way ours now
  o.name_len_ = o.meta_len_ = 0;
  o.addr_len_ = 0;
  o.flags_ = 0;
  o.hash_ = hash_name({});
}

Member &Member::operator=(const Member &o) {
  if (this != &o) {
    Member copy(o);
    *this = std::move(copy);
  }
  return *this;
}

Member &Member::operator=(Member &&o) noexcept {
  if (this != &o) {
    release();
    state_change = o.state_change;
    incarnation = o.incarnation;
    port = o.port;
    vsn = o.vsn;
    state = o.state;
    addr_len_ = o.addr_len_;
    flags_ = o.flags_;
    hash_ = o.hash_;
    name_len_ = o.name_len_;
    meta_len_ = o.meta_len_;
    std::memcpy(buf_, o.buf_, kInline);
    o.name_len_ = o.meta_len_ = 0;
    o.addr_len_ = 0;
    o.flags_ = 0;
    o.hash_ = hash_name({});
  }
  return *this;
}

char *Member::heap() const noexcept {
  char *p;
  std::memcpy(&p, buf_, sizeof p);
  return p;
}

void Member::release() noexcept {
  if (on_heap()) delete[] heap();
  name_len_ = meta_len_ = 0;
  addr_len_ = 0;
}

void Member::rebuild(std::string_view name, wire::ByteView addr, wire::ByteView meta) {
  if (addr.size() > 255) addr = addr.first(255);
  const std::size_t n = name.size() + addr.size() + meta.size();
  char *dst;
  char *fresh = nullptr;
  char tmp[kInline];
  if (n > kInline) {
    fresh = new char[n];
    dst = fresh;
  } else {
    dst = tmp;  // the sources may be our own inline bytes
  }
  if (!name.empty()) std::memcpy(dst, name.data(), name.size());
  if (!addr.empty()) std::memcpy(dst + name.size(), addr.data(), addr.size());
  if (!meta.empty()) std::memcpy(dst + name.size() + addr.size(), meta.data(), meta.size());
  release();
  name_len_ = static_cast<std::uint32_t>(name.size());
  addr_len_ = static_cast<std::uint8_t>(addr.size());
  meta_len_ = static_cast<std::uint32_t>(meta.size());
  if (fresh != nullptr) {
    std::memcpy(buf_, &fresh, sizeof fresh);
  } else {
    std::memcpy(buf_, tmp, n);
  }
}

wire::OptSmallBytes Member::addr_opt() const {
  if (!has_addr()) return std::nullopt;
  const auto a = addr();
  return wire::SmallBytes(a.begin(), a.end());
}

wire::OptBytes Member::meta_opt() const {
  if (!has_meta()) return std::nullopt;
  const auto m = meta();
  return wire::Bytes(m.begin(), m.end());
}

void Member::set_addr(std::optional<wire::ByteView> a) {
  const wire::ByteView v = a ? *a : wire::ByteView{};
  if (has_addr() == a.has_value() && v.size() == addr_len_ && std::equal(v.begin(), v.end(), addr().begin())) return;
  rebuild(name(), v, meta());
  flags_ = static_cast<std::uint8_t>(a ? flags_ | kHasAddr : flags_ & ~kHasAddr);
}

void Member::set_meta(std::optional<wire::ByteView> m) {
  const wire::ByteView v = m ? *m : wire::ByteView{};
  if (has_meta() == m.has_value() && v.size() == meta_len_ && std::equal(v.begin(), v.end(), meta().begin())) return;
  rebuild(name(), addr(), v);
  flags_ = static_cast<std::uint8_t>(m ? flags_ | kHasMeta : flags_ & ~kHasMeta);
}

void Member::set_vsn(wire::ByteView v) noexcept {
  if (v.size() > 5) std::copy_n(v.begin(), vsn.size(), vsn.begin());
}

Member *MemberSlab::acquire(Member &&m) {
  if (!free_.empty()) {
    Member *slot = free_.back();
    free_.pop_back();
    *slot = std::move(m);
    return slot;
  }
  if (chunks_.empty() || last_used_ == last_size_) {
    // 8, 16, 32, then 64 records per chunk: a small table stays small and the unused tail of
    // the last chunk is under 4 KiB at any size.
    const std::size_t size = chunks_.empty() ? 8 : std::min<std::size_t>(last_size_ * 2, 64);
    chunks_.push_back(std::make_unique<Member[]>(size));
    last_size_ = size;
    last_used_ = 0;
  }
  Member *slot = &chunks_.back()[last_used_++];
  *slot = std::move(m);
  return slot;
}

void MemberSlab::release(Member *m) noexcept {
  *m = Member();
  try {
    free_.push_back(m);
  } catch (...) {
    // Out of memory for the free list: the slot is lost until the table goes (nothing dangles).
  }
}

Member *MemberTable::find(std::string_view name) noexcept {
  return const_cast<Member *>(std::as_const(*this).find(name));
}

const Member *MemberTable::find(std::string_view name) const noexcept {
  const std::uint32_t h = hash_name(name);
  Member *const *m = by_name_.find(h, [&](const Member *r) noexcept { return r->name_hash() == h && r->name() == name; });
  return m == nullptr ? nullptr : *m;
}

std::pair<Member &, bool> MemberTable::insert(Member m, Rng &rng) {
  if (Member *existing = find(m.name())) return {*existing, false};
  if (list_.size() == list_.capacity()) list_.reserve(std::max<std::size_t>(8, list_.capacity() * 2));
  Member *ref = slab_.acquire(std::move(m));
  try {
    by_name_.insert(ref, ref->name_hash());
  } catch (...) {
    slab_.release(ref);
    throw;
  }
  const std::size_t n = list_.size();
  const std::size_t offset = random_offset(n, rng);
  list_.push_back(ref);
  std::swap(list_[offset], list_[n]);
  return {*ref, true};
}

std::size_t MemberTable::num_members() const noexcept {
  return static_cast<std::size_t>(std::count_if(
      list_.begin(), list_.end(), [](const auto &p) { return !p->dead_or_left(); }));
}

std::size_t MemberTable::count(NodeState s) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [s](const auto &p) { return p->state == s; }));
}

std::vector<Member> MemberTable::reap_and_shuffle(TimePoint now,
                                                  std::chrono::nanoseconds gossip_to_the_dead,
                                                  Rng &rng) {
  // Move the expired Dead/Left entries to the back by swapping, the way moveDeadNodes does
  // (this fixes the pre-shuffle order, which only matters for reproducing a seed).
  std::size_t end = list_.size();
  for (std::size_t i = 0; i < end;) {
    const Member &m = *list_[i];
    if (m.dead_or_left() && now - m.state_change > gossip_to_the_dead) {
      --end;
      std::swap(list_[i], list_[end]);
      continue;  // look at what was swapped in
    }
    ++i;
  }
  std::vector<Member> removed;
  removed.reserve(list_.size() - end);
  for (std::size_t i = end; i < list_.size(); ++i) {
    if (reap_hook_) reap_hook_(*list_[i]);
    by_name_.erase(list_[i]->name_hash(), [p = list_[i]](const Member *r) noexcept { return r == p; });
    removed.push_back(std::move(*list_[i]));
    slab_.release(list_[i]);
  }
  list_.resize(end);
  shuffle(rng);
  return removed;
}

void MemberTable::shuffle(Rng &rng) {
  state::shuffle(std::span<Member *>(list_), rng);
}

MemberTable::ProbeStep MemberTable::next_probe(TimePoint now,
                                               std::chrono::nanoseconds gossip_to_the_dead,
                                               Rng &rng) {
  ProbeStep step;
  std::size_t considered = 0;
  for (;;) {
    if (considered >= list_.size()) return step;
    if (probe_index_ >= list_.size()) {
      auto gone = reap_and_shuffle(now, gossip_to_the_dead, rng);
      for (auto &m : gone) step.reaped.push_back(std::move(m));
      step.wrapped = true;
      probe_index_ = 0;
      ++considered;
      continue;
    }
    Member *m = list_[probe_index_];
    ++probe_index_;
    if (m->name() == local_name_ || m->dead_or_left()) {
      ++considered;
      continue;
    }
    step.target = m;
    return step;
  }
}

std::vector<Member *> MemberTable::k_random_members(std::size_t k, Rng &rng,
                                                    std::initializer_list<NodeState> states,
                                                    std::initializer_list<std::string_view> skip) {
  return k_random_members(k, rng, [&](const Member &m) {
    if (m.name() == local_name_) return true;
    if (std::find(states.begin(), states.end(), m.state) == states.end()) return true;
    return std::find(skip.begin(), skip.end(), m.name()) != skip.end();
  });
}

}  // namespace memberlist::state
