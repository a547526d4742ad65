// The C++ wrapper from an installed libmemberlist.
#include <memberlist.hpp>

#include <cstdio>

int main() {
  memberlist::Config cfg = memberlist::Config::local();
  cfg.set("name", "consumer-cpp").set("bind_addr", "127.0.0.1").set("bind_port", "0");
  memberlist::Memberlist m(cfg);
  try {
    cfg.set("no_such_key", "1");
    return 1;
  } catch (const memberlist::Error &e) {
    if (e.code() != ML_ERR_UNKNOWN_KEY) return 1;
  }
  std::printf("consumer-cpp: %s, %d member(s)\n", memberlist::version_string().c_str(), m.num_members());
  return m.num_members() == 1 ? 0 : 1;
}
