// The body of the compression fuzzers (fuzz_lzw, fuzz_snappy). Input = raw bytes, used twice:
//  - as compressed data: decompress with a 256 KiB bound must fail cleanly or stay within the
//    bound, and what it yields must round-trip through compress;
//  - as plain data: decompress(compress(x)) == x, with the bound exactly |x|; one byte less must
//    fail with LimitExceeded, and the compressed stream cut by one byte with Truncated.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "wire/bytes.hpp"
#include "wire/error.hpp"

namespace memberlist::fuzz {

template <auto Compress, auto Decompress>
class CodecFuzz {
 public:
  static constexpr size_t kBound = 256u << 10;

  static void run(wire::ByteView in) {
    using wire::Errc;
    auto d = Decompress(in, kBound);
    if (d.ok()) {
      FUZZ_CHECK(d->size() <= kBound, "bound exceeded");
      round_trip(*d);
    } else {
      const Errc c = d.error().code;
      FUZZ_CHECK(c == Errc::Truncated || c == Errc::Malformed || c == Errc::LimitExceeded,
                 "unexpected error " + d.error().to_string());
    }
    round_trip(in);
  }

 private:
  static void round_trip(wire::ByteView x) {
    using wire::Errc;
    const wire::Bytes c = Compress(x);
    FUZZ_CHECK(!c.empty(), "empty compressed stream");
    auto back = Decompress(c, x.size());
    FUZZ_CHECK(back.ok(), "round trip fails: " + (back.ok() ? std::string() : back.error().to_string()));
    FUZZ_CHECK(back->size() == x.size() && std::equal(back->begin(), back->end(), x.begin()),
               "round trip differs");
    if (!x.empty()) {
      auto tight = Decompress(c, x.size() - 1);
      FUZZ_CHECK(!tight.ok() && tight.error().code == Errc::LimitExceeded, "bound |x|-1 not enforced");
    }
    auto cut = Decompress(wire::ByteView(c).first(c.size() - 1), x.size());
    FUZZ_CHECK(!cut.ok() && cut.error().code == Errc::Truncated, "stream without its last byte accepted");
  }
};

}  // namespace memberlist::fuzz
