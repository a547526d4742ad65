// LZW exactly as Go's compress/lzw with order LSB and literal width 8 (WIRE.md §5.4).
#pragma once

#include "wire/bytes.hpp"
#include "wire/error.hpp"

namespace memberlist::wire {

Bytes lzw_compress(ByteView in);
// Fails with Truncated when the stream ends before the EOF code (as Go does), Malformed on an
// invalid code, LimitExceeded when the output would exceed max_out bytes.
Result<Bytes> lzw_decompress(ByteView in, size_t max_out);

}  // namespace memberlist::wire
