// mlconfig: prints the configuration reference generated from the property table.
//   mlconfig reference > docs/config.md
#include <cstdio>
#include <cstring>

#include "protocol/config_table.hpp"

int main(int argc, char **argv) {
  if (argc != 2 || std::strcmp(argv[1], "reference") != 0) {
    std::fprintf(stderr, "usage: mlconfig reference\n");
    return 2;
  }
  std::fputs(memberlist::protocol::config_reference_markdown().c_str(), stdout);
  return 0;
}
