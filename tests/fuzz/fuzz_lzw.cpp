// fuzz_lzw: LZW (WIRE.md §5.4), through the shared compression harness (fuzz_codec.hpp).
#include "fuzz_codec.hpp"
#include "wire/lzw.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace memberlist;
  fuzz::CodecFuzz<wire::lzw_compress, wire::lzw_decompress>::run(wire::ByteView(data, size));
  return 0;
}
