#include "test_util.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace memberlist::test {

wire::Bytes hex(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  auto b = wire::from_hex(s);
  if (!b) {
    std::fprintf(stderr, "bad hex literal in test: %s\n", s.c_str());
    std::abort();
  }
  return *b;
}

std::string tests_path(const std::string &rel) { return std::string(ML_TESTS_DIR) + "/" + rel; }

}  // namespace memberlist::test
