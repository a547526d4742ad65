// Test vectors in the shared TSV format (tests/vectors/README.md): reading, checking against
// our decoder and encoder, and generating vectors from our encoder for the Go side to check.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/messages.hpp"

namespace memberlist::tools {

struct Vector {
  std::string name;
  std::string kind;  // msg | packet | stream | lzw
  std::map<std::string, std::string> params;
  wire::Bytes bytes;
  std::string expect;
  int line = 0;

  std::string param(const std::string &key, const std::string &fallback = "") const;
  bool expects_error() const { return param("error") == "1"; }
};

wire::Result<std::vector<Vector>> parse_vectors(std::string_view text, const std::string &origin);
wire::Result<std::vector<Vector>> read_vectors(const std::string &path);
std::string format_vector(const Vector &v);

// Decodes the vector as its kind says: the canonical dump, or the decoder's error.
wire::Result<std::string> decode_vector(const Vector &v);

// Checks one vector: decode and compare with `expect`, re-encode `msg` vectors in their int
// style and compare bytes, and require rejection for `error=1`. Empty string = pass.
std::string check_vector(const Vector &v);

// Vectors made by our encoder, covering every message, framing layer and limit edge.
std::vector<Vector> generate_vectors();

// A readable, layer-by-layer account of how a vector decodes (the demo).
std::string explain_vector(const Vector &v);

}  // namespace memberlist::tools
