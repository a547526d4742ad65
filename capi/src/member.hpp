// ml_member_t / ml_members_t: snapshots of members, owned by the C caller (members) or valid
// for the length of one callback (a single member).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "guard.hpp"

struct ml_member {
  memberlist::protocol::Member m;
  std::string address;
  explicit ml_member(memberlist::protocol::Member mem)
      : m(std::move(mem)),
        address(memberlist::protocol::to_string(memberlist::protocol::Endpoint{m.addr, m.port, {}})) {}
};
struct ml_members {
  std::vector<ml_member> list;
};
