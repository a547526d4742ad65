// Helpers for the core unit tests.
#pragma once

#include <string>

#include "wire/bytes.hpp"

namespace memberlist::test {

// Hex literal with optional spaces, as WIRE.md prints them; aborts the test binary on bad input.
wire::Bytes hex(std::string s);

// Path of a file under tests/ (set by CMake).
std::string tests_path(const std::string &rel);

}  // namespace memberlist::test
