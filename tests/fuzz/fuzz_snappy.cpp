// fuzz_snappy: Snappy's block format (grafana/memberlist's compression Algo 1; docs/protocol.md),
// through the shared compression harness (fuzz_codec.hpp).
#include "fuzz_codec.hpp"
#include "wire/snappy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace memberlist;
  fuzz::CodecFuzz<wire::snappy_compress, wire::snappy_decompress>::run(wire::ByteView(data, size));
  return 0;
}
