// Snappy's block format (no framing), as github.com/golang/snappy's Encode/Decode read and write
// it: what grafana/memberlist puts in a compress message with Algo 1 (WIRE.md §5.4, and
// docs/protocol.md "Snappy compression").
//
//   varint(decoded length) then elements; an element's tag byte says by its low two bits:
//   00 literal (length-1 in the upper six bits, or 60..63 = that many minus 59 little-endian bytes follow)
//   01 copy, length 4..11 and an 11-bit offset
//   10 copy, length 1..64 and a 16-bit little-endian offset
//   11 copy, length 1..64 and a 32-bit little-endian offset
#pragma once

#include "wire/bytes.hpp"
#include "wire/error.hpp"

namespace memberlist::wire {

Bytes snappy_compress(ByteView in);
// LimitExceeded when the stream announces more than max_out bytes (checked before anything is
// allocated), Truncated when it ends inside an element, Malformed for a copy before the start of
// the output, output that overruns or falls short of the announced length, or a bad length varint.
Result<Bytes> snappy_decompress(ByteView in, size_t max_out);

}  // namespace memberlist::wire
