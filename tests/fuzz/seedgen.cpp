// Seed generator for the fuzz targets: turns test vectors into fuzz inputs, with the config
// byte(s) (fuzz_common.hpp) that match each vector's receiver params prepended.
//
//   fuzz_seedgen OUTDIR [VECTORS.tsv...]
//
// Reads every given vector file (missing ones are skipped with a note), adds our encoder's
// generate_vectors(), and writes OUTDIR/fuzz_packet, OUTDIR/fuzz_stream, OUTDIR/fuzz_lzw and OUTDIR/fuzz_snappy.
// It also writes a few hand-built inputs (deep nesting, compression bombs, limit edges). Every
// seed of a vector that should decode is run through the same configuration as the target and
// checked against the vector's `expect`, so a wrong config mapping shows up here.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "vectors.hpp"
#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/lzw.hpp"
#include "wire/snappy.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

namespace fs = std::filesystem;
using namespace memberlist;
using namespace memberlist::wire;
using memberlist::tools::Vector;

namespace {

int g_written = 0;
int g_mismatch = 0;

void write_seed(const fs::path &dir, const std::string &name, const Bytes &bytes) {
  fs::create_directories(dir);
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  std::ofstream out(dir / safe, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++g_written;
}

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// Config byte + label bytes for a vector's receiver params.
struct Prefix {
  uint8_t config = 0;
  Bytes label_field;  // for label mode 2: length byte + label
};

Prefix prefix_for(const Vector &v, uint8_t extra_bits) {
  Prefix p;
  p.config = extra_bits;
  if (auto l = v.param("label"); !l.empty()) {
    Bytes label = from_hex(l).value_or(Bytes{});
    if (label == to_bytes("lbl")) {
      p.config |= fuzz::kLabelLbl;
    } else if (!label.empty() && label.size() <= 255) {
      p.config |= fuzz::kLabelFromInput;
      p.label_field.push_back(static_cast<uint8_t>(label.size()));
      p.label_field.insert(p.label_field.end(), label.begin(), label.end());
    }
  }
  if (auto keys = v.param("keys"); !keys.empty()) {
    bool in_pair = true;
    for (const auto &k : split(keys, '|')) {
      auto b = from_hex(k);
      bool found = false;
      for (const auto &pk : fuzz::pair_keys()) found |= b && *b == pk;
      in_pair &= found;
    }
    p.config |= static_cast<uint8_t>((in_pair ? fuzz::kKeysPair : fuzz::kKeysWide) << fuzz::kKeysShift);
  }
  if (v.param("verify_incoming", "1") == "0") p.config |= fuzz::kVerifyOff;
  return p;
}

Bytes packet_seed(const Prefix &p, const Bytes &body) {
  Bytes s{p.config};
  s.insert(s.end(), p.label_field.begin(), p.label_field.end());
  s.insert(s.end(), body.begin(), body.end());
  return s;
}
Bytes stream_seed(const Prefix &p, uint8_t chunk, const Bytes &body) {
  Bytes s{p.config, chunk};
  s.insert(s.end(), p.label_field.begin(), p.label_field.end());
  s.insert(s.end(), body.begin(), body.end());
  return s;
}

std::string join_dumps(const std::vector<Message> &msgs) {
  std::string out;
  for (size_t i = 0; i < msgs.size(); ++i) out += (i ? " ; " : "") + dump(msgs[i]);
  return out;
}

// Decodes a packet seed the way fuzz_packet does; "" when it matches the vector.
std::string check_packet_seed(const Bytes &seed, const std::string &expect) {
  ByteView in(seed);
  in = in.subspan(1);
  fuzz::Config cfg;
  if (!fuzz::parse_config(seed[0], in, cfg)) return "config does not parse";
  PacketIn opts;
  opts.label = cfg.label;
  opts.skip_inbound_label_check = cfg.skip_inbound_label_check;
  opts.keyring = cfg.keyring;
  opts.verify_incoming = cfg.verify_incoming;
  opts.limits = cfg.limits;
  auto r = decode_packet(in, opts);
  if (!r) return r.error().to_string();
  if (!r->errors.empty()) return r->errors.front().to_string();
  const std::string got = join_dumps(r->messages);
  return got == expect ? "" : "got " + got;
}

std::string check_stream_seed(const Bytes &seed, const std::string &expect) {
  ByteView in(seed);
  in = in.subspan(2);
  fuzz::Config cfg;
  if (!fuzz::parse_config(seed[0], in, cfg)) return "config does not parse";
  StreamIn opts;
  opts.label = cfg.label;
  opts.skip_inbound_label_check = cfg.skip_inbound_label_check;
  opts.read_label_header = cfg.read_label_header;
  opts.keyring = cfg.keyring;
  opts.verify_incoming = cfg.verify_incoming;
  opts.limits = cfg.limits;
  auto r = StreamDecoder::decode(in, opts);
  if (!r) return r.error().to_string();
  const std::string got = dump(*r);
  return got == expect ? "" : "got " + got;
}

// Whether our decoder, with the vector's own receiver and the default limits, gives `expect`
// (tests/core checks the vectors; a vector failing there is not a seed problem).
bool reference_ok(const Vector &v) {
  auto r = tools::decode_vector(v);
  if (!r || *r != v.expect) {
    std::fprintf(stderr, "seedgen: note: %s does not decode as expected with the default limits either\n",
                 v.name.c_str());
    return false;
  }
  return true;
}

void note_mismatch(const std::string &what, const std::string &why) {
  ++g_mismatch;
  std::fprintf(stderr, "seedgen: %s does not decode as its vector says: %s\n", what.c_str(), why.c_str());
}

// The LZW data inside a compress wrapper (type byte first), if that is what `msg` is.
std::optional<Bytes> lzw_of(ByteView msg) {
  if (msg.empty() || msg[0] != static_cast<uint8_t>(MsgType::Compress)) return std::nullopt;
  Compress c;
  size_t off = 1;
  if (!decode_body(msg, &off, c, Limits{}) || !c.buf) return std::nullopt;
  return *c.buf;
}

void seeds_from_vector(const fs::path &out, const std::string &origin, const Vector &v) {
  const std::string base = origin + "." + v.name;
  const bool want_ok = !v.expects_error();
  if (v.kind == "msg" || v.kind == "packet") {
    const Prefix p = prefix_for(v, 0);
    const Bytes seed = packet_seed(p, v.bytes);
    write_seed(out / "fuzz_packet", base, seed);
    write_seed(out / "fuzz_packet", base + ".small", packet_seed(prefix_for(v, fuzz::kSmallLimits), v.bytes));
    // (errResp is a msg vector but only a stream reply: a packet refuses it.)
    const bool packet_ok = !(v.kind == "msg" && !v.bytes.empty() && v.bytes[0] == static_cast<uint8_t>(MsgType::Err));
    if (want_ok && packet_ok && reference_ok(v)) {
      if (auto why = check_packet_seed(seed, v.expect); !why.empty()) note_mismatch(base, why);
    }
    // Stream messages that are also UDP messages (ping, ack, err) are stream seeds too.
    if (v.kind == "msg" && !v.bytes.empty() &&
        (v.bytes[0] == static_cast<uint8_t>(MsgType::Ping) || v.bytes[0] == static_cast<uint8_t>(MsgType::AckResp) ||
         v.bytes[0] == static_cast<uint8_t>(MsgType::Err))) {
      write_seed(out / "fuzz_stream", base + ".c1", stream_seed(p, 0x00, v.bytes));
    }
    // LZW seeds: whatever compress wrapper the packet opens to.
    if (v.kind == "packet") {
      ByteView in(seed);
      in = in.subspan(1);
      fuzz::Config cfg;
      if (fuzz::parse_config(seed[0], in, cfg)) {
        PacketIn opts;
        opts.label = cfg.label;
        opts.keyring = cfg.keyring;
        opts.verify_incoming = cfg.verify_incoming;
        if (auto opened = open_packet(in, opts)) {
          if (auto l = lzw_of(opened->payload)) write_seed(out / "fuzz_lzw", base, *l);
        }
      }
    } else {
      write_seed(out / "fuzz_lzw", base + ".lzw", lzw_compress(v.bytes));
      write_seed(out / "fuzz_snappy", base + ".snappy", snappy_compress(v.bytes));
    }
    return;
  }
  if (v.kind == "stream") {
    const Prefix p = prefix_for(v, 0);
    const Bytes seed = stream_seed(p, 0x00, v.bytes);
    write_seed(out / "fuzz_stream", base + ".c1", seed);
    write_seed(out / "fuzz_stream", base + ".c7", stream_seed(p, 0x06, v.bytes));
    write_seed(out / "fuzz_stream", base + ".rnd", stream_seed(p, 0x8f, v.bytes));
    write_seed(out / "fuzz_stream", base + ".small", stream_seed(prefix_for(v, fuzz::kSmallLimits), 0x83, v.bytes));
    if (want_ok && reference_ok(v)) {
      if (auto why = check_stream_seed(seed, v.expect); !why.empty()) note_mismatch(base, why);
    }
    // The same message as a reply: no label header on the wire (the label is still the AAD).
    if (auto l = strip_label_header(v.bytes); l && !l->label.empty()) {
      const Bytes reply(l->rest.begin(), l->rest.end());
      const Bytes rs = stream_seed(prefix_for(v, fuzz::kNoLabelHeader), 0x01, reply);
      write_seed(out / "fuzz_stream", base + ".reply", rs);
      if (want_ok && reference_ok(v)) {
        if (auto why = check_stream_seed(rs, v.expect); !why.empty()) note_mismatch(base + ".reply", why);
      }
    }
    if (auto l = strip_label_header(v.bytes); l) {
      if (auto z = lzw_of(l->rest)) write_seed(out / "fuzz_lzw", base, *z);
    }
    return;
  }
  if (v.kind == "lzw") write_seed(out / "fuzz_lzw", base, v.bytes);
}

// ---- hand-built inputs

Bytes compound_of(const std::vector<Bytes> &parts) { return make_compound(std::span<const Bytes>(parts)).value(); }

// A compress wrapper whose payload is a compound of `fanout` copies of `inner`, `levels` deep:
// every level multiplies the work by `fanout` while the bytes stay small.
Bytes nested_bomb(const Bytes &leaf, size_t fanout, int levels) {
  Bytes cur = leaf;
  for (int i = 0; i < levels; ++i) {
    std::vector<Bytes> parts(fanout, cur);
    cur = compress_payload(compound_of(parts));
  }
  return cur;
}

void handmade(const fs::path &out) {
  const Bytes ping = encode(Ping{7, "node-b", {10, 0, 0, 1}, 7946, "node-a"});
  const Bytes user = {static_cast<uint8_t>(MsgType::User), 'h', 'i'};
  // Nesting exactly at and one past the small limit (2) and the default limit (8).
  for (int depth : {2, 3, 8, 9}) {
    Bytes cur = ping;
    for (int i = 0; i < depth; ++i) cur = i % 2 ? compress_payload(cur) : compound_of({cur, user});
    write_seed(out / "fuzz_packet", "hand.nest" + std::to_string(depth), packet_seed({}, cur));
    write_seed(out / "fuzz_packet", "hand.nest" + std::to_string(depth) + ".small",
               packet_seed({fuzz::kSmallLimits, {}}, cur));
  }
  // Compound edges: 255 parts, a truncated length table, parts cut off.
  write_seed(out / "fuzz_packet", "hand.compound255", packet_seed({}, compound_of(std::vector<Bytes>(255, user))));
  write_seed(out / "fuzz_packet", "hand.compound_trunc_table", packet_seed({}, Bytes{7, 3, 0, 1}));
  Bytes cut = compound_of({ping, ping, user});
  cut.resize(cut.size() - 4);
  write_seed(out / "fuzz_packet", "hand.compound_cut", packet_seed({}, cut));
  // Decompression amplification: a compound of compress wrappers that each expand to the
  // per-wrapper bound, and compress/compound nested twice with fanout 255.
  for (size_t bound : {size_t{64} << 10, size_t{1} << 20}) {
    Bytes big(bound, 'a');
    big[0] = static_cast<uint8_t>(MsgType::User);
    const Bytes one = compress_payload(big);
    const size_t k = std::min<size_t>(255, 60000 / one.size());
    const Bytes multi = compound_of(std::vector<Bytes>(k, one));
    std::fprintf(stderr, "seedgen: bomb: %zu wrappers of %zu bytes -> %zu KiB each, datagram %zu bytes\n", k,
                 one.size(), bound >> 10, multi.size());
    write_seed(out / "fuzz_packet", "hand.bomb_multi" + std::to_string(bound >> 10) + "k", packet_seed({}, multi));
  }
  write_seed(out / "fuzz_packet", "hand.bomb_nested", packet_seed({}, nested_bomb(user, 255, 2)));
  // Alive with meta at and over the small limit (8) and the default (512).
  for (size_t n : {8u, 9u, 512u, 513u}) {
    Alive a{1, "n", Bytes{1, 2, 3, 4}, 7946, Bytes(n, 'm'), Bytes{1, 5, 2, 0, 0, 0}};
    write_seed(out / "fuzz_packet", "hand.meta" + std::to_string(n),
               packet_seed({fuzz::kSmallLimits, {}}, encode(a)));
  }

  // Streams: limits of the small config, each just under and over.
  auto pp = [](size_t nodes, size_t user_state) {
    PushPull p;
    p.join = true;
    for (size_t i = 0; i < nodes; ++i) {
      p.nodes.push_back(PushNodeState{"n" + std::to_string(i), Bytes{10, 0, 0, static_cast<uint8_t>(i)}, 7946,
                                      Bytes{}, 1, 0, Bytes{1, 5, 2, 0, 0, 0}});
    }
    p.user_state = Bytes(user_state, 'u');
    return p;
  };
  const uint8_t small = fuzz::kSmallLimits;
  write_seed(out / "fuzz_stream", "hand.pp3", stream_seed({small, {}}, 0x82, encode_push_pull(pp(3, 64))));
  write_seed(out / "fuzz_stream", "hand.pp4", stream_seed({small, {}}, 0x82, encode_push_pull(pp(4, 0))));
  write_seed(out / "fuzz_stream", "hand.ppus65", stream_seed({small, {}}, 0x02, encode_push_pull(pp(0, 65))));
  write_seed(out / "fuzz_stream", "hand.user64", stream_seed({small, {}}, 0x85, encode_user_stream(Bytes(64, 'x'))));
  write_seed(out / "fuzz_stream", "hand.user65", stream_seed({small, {}}, 0x05, encode_user_stream(Bytes(65, 'x'))));
  // A complete message followed by trailing bytes past max_stream_bytes.
  Bytes trailing = encode(Ping{1, "a", {}, 0, ""});
  trailing.resize(trailing.size() + 1100, 0);
  write_seed(out / "fuzz_stream", "hand.trailing", stream_seed({small, {}}, 0x10, trailing));
  write_seed(out / "fuzz_stream", "hand.trailing.whole", stream_seed({small, {}}, 0x7f, trailing));
  // Compressed stream message at the small decompression bound.
  StreamOut co;
  co.compress = true;
  write_seed(out / "fuzz_stream", "hand.compressed_user",
             stream_seed({small, {}}, 0x81, encode_stream(encode_user_stream(Bytes(60, 'z')), co).value()));
  write_seed(out / "fuzz_stream", "hand.compressed_pp",
             stream_seed({small, {}}, 0x81, encode_stream(encode_push_pull(pp(3, 300)), co).value()));
  // Encrypted frame length over max_encrypted_stream (256 in the small config).
  {
    static const Keyring ring = fuzz::make_ring(fuzz::pair_keys());
    StreamOut eo;
    eo.keyring = &ring;
    eo.nonce = fuzz::fixed_nonce();
    const auto cfg = static_cast<uint8_t>(small | fuzz::kKeysPair << fuzz::kKeysShift);
    write_seed(out / "fuzz_stream", "hand.enc_small",
               stream_seed({cfg, {}}, 0x03, encode_stream(encode_user_stream(Bytes(40, 'e')), eo).value()));
    write_seed(out / "fuzz_stream", "hand.enc_big",
               stream_seed({cfg, {}}, 0x03, encode_stream(encode_push_pull(pp(2, 250)), eo).value()));
  }

  // LZW: table growth to 12 bits and the freeze, the KwKwK case, random data.
  Bytes ramp;
  for (int i = 0; i < 9000; ++i) ramp.push_back(static_cast<uint8_t>((i * i) >> 3));
  write_seed(out / "fuzz_lzw", "hand.ramp", lzw_compress(ramp));
  write_seed(out / "fuzz_lzw", "hand.kwkwk", lzw_compress(Bytes(300, 'a')));
  Bytes noise(3000);
  uint32_t s = 1;
  for (auto &b : noise) b = static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 16);
  write_seed(out / "fuzz_lzw", "hand.noise", lzw_compress(noise));
  write_seed(out / "fuzz_lzw", "hand.noise_raw", noise);
  // Snappy: long copies (split into pieces of 64), overlapping copies, literals of every length
  // form, random data.
  write_seed(out / "fuzz_snappy", "hand.ramp", snappy_compress(ramp));
  write_seed(out / "fuzz_snappy", "hand.run", snappy_compress(Bytes(300, 'a')));
  write_seed(out / "fuzz_snappy", "hand.noise", snappy_compress(noise));
  write_seed(out / "fuzz_snappy", "hand.noise_raw", noise);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [VECTORS.tsv...]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string path = argv[i];
    if (!fs::exists(path)) {
      std::fprintf(stderr, "seedgen: %s not found, skipped\n", path.c_str());
      continue;
    }
    auto vs = tools::read_vectors(path);
    if (!vs) {
      std::fprintf(stderr, "seedgen: %s\n", vs.error().to_string().c_str());
      return 1;
    }
    const std::string origin = fs::path(path).stem().string();
    for (const auto &v : *vs) seeds_from_vector(out, origin, v);
  }
  for (const auto &v : tools::generate_vectors()) seeds_from_vector(out, "ours", v);
  handmade(out);
  std::printf("%d seeds written to %s, %d config mismatches\n", g_written, out.c_str(), g_mismatch);
  return g_mismatch ? 1 : 0;
}
