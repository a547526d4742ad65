// fuzz_lzw: LZW (WIRE.md §5.4). Input = raw bytes, used twice:
//  - as compressed data: lzw_decompress with a 256 KiB bound must fail cleanly or stay within
//    the bound, and what it yields must round-trip through lzw_compress;
//  - as plain data: lzw_decompress(lzw_compress(x)) == x, with the bound exactly |x|; one byte
//    less must fail with LimitExceeded, and the compressed stream cut by one byte with Truncated.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "wire/lzw.hpp"

using namespace memberlist::wire;

namespace {

constexpr size_t kBound = 256u << 10;

void round_trip(ByteView x) {
  const Bytes c = lzw_compress(x);
  FUZZ_CHECK(c.size() >= 3, "compressed stream shorter than CLEAR+EOF");
  auto back = lzw_decompress(c, x.size());
  FUZZ_CHECK(back.ok(), "round trip fails: " + (back.ok() ? std::string() : back.error().to_string()));
  FUZZ_CHECK(back->size() == x.size() && std::equal(back->begin(), back->end(), x.begin()),
             "round trip differs");
  if (!x.empty()) {
    auto tight = lzw_decompress(c, x.size() - 1);
    FUZZ_CHECK(!tight.ok() && tight.error().code == Errc::LimitExceeded, "bound |x|-1 not enforced");
  }
  auto cut = lzw_decompress(ByteView(c).first(c.size() - 1), x.size());
  FUZZ_CHECK(!cut.ok() && cut.error().code == Errc::Truncated, "stream without its last byte accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ByteView in(data, size);
  auto d = lzw_decompress(in, kBound);
  if (d.ok()) {
    FUZZ_CHECK(d->size() <= kBound, "bound exceeded");
    round_trip(*d);
  } else {
    const Errc c = d.error().code;
    FUZZ_CHECK(c == Errc::Truncated || c == Errc::Malformed || c == Errc::LimitExceeded,
               "unexpected error " + d.error().to_string());
  }
  round_trip(in);
  return 0;
}
