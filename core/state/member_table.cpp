// Implementation of core/state/member_table.hpp.
#include "state/member_table.hpp"

#include <algorithm>

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

void Member::set_vsn(wire::ByteView v) noexcept {
  if (v.size() > 5) std::copy_n(v.begin(), vsn.size(), vsn.begin());
}

Member *MemberTable::find(std::string_view name) noexcept {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Member *MemberTable::find(std::string_view name) const noexcept {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::pair<Member &, bool> MemberTable::insert(Member m, Rng &rng) {
  if (Member *existing = find(m.name)) return {*existing, false};
  auto owned = std::make_unique<Member>(std::move(m));
  Member &ref = *owned;
  by_name_.emplace(ref.name, &ref);
  const std::size_t n = list_.size();
  const std::size_t offset = random_offset(n, rng);
  try {
    list_.push_back(std::move(owned));
  } catch (...) {
    by_name_.erase(ref.name);
    throw;
  }
  std::swap(list_[offset], list_[n]);
  return {ref, true};
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
    by_name_.erase(list_[i]->name);
    removed.push_back(std::move(*list_[i]));
  }
  list_.resize(end);
  shuffle(rng);
  return removed;
}

void MemberTable::shuffle(Rng &rng) {
  state::shuffle(std::span<std::unique_ptr<Member>>(list_), rng);
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
    Member *m = list_[probe_index_].get();
    ++probe_index_;
    if (m->name == local_name_ || m->dead_or_left()) {
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
    if (m.name == local_name_) return true;
    if (std::find(states.begin(), states.end(), m.state) == states.end()) return true;
    return std::find(skip.begin(), skip.end(), std::string_view(m.name)) != skip.end();
  });
}

}  // namespace memberlist::state
