#include "vectors.hpp"

#include <fstream>
#include <sstream>

#include "wire/codec.hpp"
#include "wire/crypto.hpp"
#include "wire/framing.hpp"
#include "wire/lzw.hpp"
#include "wire/packet.hpp"
#include "wire/stream.hpp"

namespace memberlist::tools {

using namespace memberlist::wire;

std::string Vector::param(const std::string &key, const std::string &fallback) const {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

Error bad_line(const std::string &origin, int line, const std::string &why) {
  return make_error(Errc::Malformed, origin + ":" + std::to_string(line) + ": " + why);
}

// Receiver-side configuration a vector's params describe.
struct Receiver {
  std::string label;
  Keyring keyring;
  bool verify_incoming = true;
};

Result<Receiver> receiver_for(const Vector &v) {
  Receiver r;
  if (auto l = v.param("label"); !l.empty()) {
    auto b = from_hex(l);
    if (!b) return make_error(Errc::Malformed, "label param is not hex");
    r.label.assign(b->begin(), b->end());
  }
  if (auto keys = v.param("keys"); !keys.empty()) {
    for (const auto &k : split(keys, '|')) {
      auto b = from_hex(k);
      if (!b) return make_error(Errc::Malformed, "keys param is not hex");
      if (auto st = r.keyring.add_key(*b); !st) return st.error();
    }
  }
  r.verify_incoming = v.param("verify_incoming", "1") != "0";
  return r;
}

IntStyle style_of(const Vector &v) { return v.param("ints") == "v2" ? IntStyle::V2 : IntStyle::Legacy; }

std::string join(const std::vector<std::string> &parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

Result<std::vector<Vector>> parse_vectors(std::string_view text, const std::string &origin) {
  std::vector<Vector> out;
  std::map<std::string, int> seen;
  int line_no = 0;
  for (const auto &raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, '\t');
    if (f.size() != 5) return bad_line(origin, line_no, "expected 5 tab-separated fields, got " + std::to_string(f.size()));
    Vector v;
    v.line = line_no;
    v.name = f[0];
    v.kind = f[1];
    if (v.kind != "msg" && v.kind != "packet" && v.kind != "stream" && v.kind != "lzw") {
      return bad_line(origin, line_no, "unknown kind '" + v.kind + "'");
    }
    if (f[2] != "-") {
      for (const auto &kv : split(f[2], ',')) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) return bad_line(origin, line_no, "param without '=': " + kv);
        v.params[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    }
    auto bytes = from_hex(f[3]);
    if (!bytes) return bad_line(origin, line_no, "hex field is not valid hex");
    v.bytes = std::move(*bytes);
    v.expect = f[4];
    if (seen.count(v.name)) return bad_line(origin, line_no, "duplicate vector name " + v.name);
    seen[v.name] = line_no;
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<Vector>> read_vectors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::Malformed, "cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_vectors(ss.str(), path);
}

std::string format_vector(const Vector &v) {
  std::string params;
  for (const auto &[k, val] : v.params) {
    if (!params.empty()) params += ',';
    params += k + "=" + val;
  }
  return v.name + "\t" + v.kind + "\t" + (params.empty() ? "-" : params) + "\t" + to_hex(v.bytes) + "\t" + v.expect;
}

Result<std::string> decode_vector(const Vector &v) {
  Limits limits;
  if (v.kind == "msg") {
    auto m = decode_message(v.bytes, limits);
    if (!m) return m.error();
    return dump(*m);
  }
  if (v.kind == "lzw") {
    auto plain = lzw_decompress(v.bytes, limits.max_stream_decompressed);
    if (!plain) return plain.error();
    return "0x" + to_hex(*plain);
  }
  auto rx = receiver_for(v);
  if (!rx) return rx.error();
  if (v.kind == "packet") {
    PacketIn in;
    in.label = rx->label;
    in.keyring = &rx->keyring;
    in.verify_incoming = rx->verify_incoming;
    auto contents = decode_packet(v.bytes, in);
    if (!contents) return contents.error();
    if (!contents->errors.empty()) return contents->errors.front();
    std::vector<std::string> dumps;
    for (const auto &m : contents->messages) dumps.push_back(dump(m));
    return join(dumps, " ; ");
  }
  StreamIn in;
  in.label = rx->label;
  in.keyring = &rx->keyring;
  in.verify_incoming = rx->verify_incoming;
  auto m = StreamDecoder::decode(v.bytes, in);
  if (!m) return m.error();
  return dump(*m);
}

std::string check_vector(const Vector &v) {
  auto got = decode_vector(v);
  if (v.expects_error()) {
    return got ? "expected a decode error, got: " + *got : "";
  }
  if (!got) return "decode failed: " + got.error().to_string();
  if (*got != v.expect) return "dump mismatch\n  want: " + v.expect + "\n  got:  " + *got;
  const bool reencode = v.param("reencode", v.kind == "msg" ? "1" : "0") == "1";
  if (reencode && v.kind == "msg") {
    auto m = decode_message(v.bytes);
    Bytes again = encode_message(*m, style_of(v));
    if (again != v.bytes) {
      return "re-encoding differs\n  want: " + to_hex(v.bytes) + "\n  got:  " + to_hex(again);
    }
  }
  return "";
}

// -------------------------------------------------------------------------------------------------
// Generation

namespace {

struct Gen {
  std::vector<Vector> out;

  void add(std::string name, std::string kind, std::map<std::string, std::string> params, Bytes bytes,
           std::string expect) {
    Vector v;
    v.name = std::move(name);
    v.kind = std::move(kind);
    v.params = std::move(params);
    v.bytes = std::move(bytes);
    v.expect = std::move(expect);
    out.push_back(std::move(v));
  }
  void msg(const std::string &name, const Message &m) {
    add(name + ".legacy", "msg", {{"ints", "legacy"}}, encode_message(m, IntStyle::Legacy), dump(m));
    add(name + ".v2", "msg", {{"ints", "v2"}}, encode_message(m, IntStyle::V2), dump(m));
  }
};

Bytes repeat(std::string_view unit, size_t n) {
  Bytes b;
  b.reserve(unit.size() * n);
  for (size_t i = 0; i < n; ++i) b.insert(b.end(), unit.begin(), unit.end());
  return b;
}

Bytes pseudo_random(size_t n, uint32_t seed) {
  Bytes b(n);
  for (auto &x : b) {
    seed = seed * 1103515245u + 12345u;
    x = static_cast<uint8_t>(seed >> 16);
  }
  return b;
}

std::string join_keys(const std::vector<Bytes> &keys) {
  std::vector<std::string> hex;
  for (const auto &k : keys) hex.push_back(to_hex(k));
  return join(hex, "|");
}

}  // namespace

std::vector<Vector> generate_vectors() {
  Gen g;
  const Bytes v4{10, 0, 0, 1};
  const Bytes v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Bytes mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  const Bytes vsn{1, 5, 2, 0, 0, 0};
  const std::string long32(40, 'n');
  const std::string long64k(70000, 'x');

  // ---- every message, both int styles
  g.msg("ping.full", Ping{7, "node-b", v4, 7946, "node-a"});
  g.msg("ping.bare", Ping{1, "node-b", {}, 0, ""});
  g.msg("ping.ipv6", Ping{0xffffffffu, "node-b", v6, 65535, "node-a"});
  g.msg("indirect.nack", IndirectPingReq{9, v4, 7946, "node-c", true, v4, 7946, "node-a"});
  g.msg("indirect.v6", IndirectPingReq{10, v6, 0, "node-c", false, {}, 0, ""});
  g.msg("indirect.nil_target", IndirectPingReq{11, std::nullopt, 1, "", false, {}, 0, ""});
  g.msg("ack.nil", AckResp{7, std::nullopt});
  g.msg("ack.empty", AckResp{7, Bytes{}});
  g.msg("ack.payload", AckResp{200, to_bytes("rtt-payload")});
  g.msg("nack", NackResp{128});
  g.msg("err", ErrResp{"remote error: something broke"});
  g.msg("err.binary", ErrResp{std::string("bad\x01\"\\", 6)});
  g.msg("suspect", Suspect{3, "node-b", "node-a"});
  g.msg("dead.leave", Dead{1, "node-a", "node-a"});
  g.msg("dead.v015leave", Dead{5, "node-a", ""});
  g.msg("alive", Alive{1, "node-a", v4, 7946, to_bytes("meta"), vsn});
  g.msg("alive.v6", Alive{65536, "node-v6", v6, 7946, std::nullopt, vsn});
  g.msg("alive.mapped", Alive{300, "node-m", mapped, 7946, Bytes{}, vsn});
  g.msg("alive.meta512", Alive{2, long32, v4, 1, repeat("m", 512), vsn});
  g.msg("alive.bigname", Alive{2, long64k, v4, 1, to_bytes("x"), vsn});
  g.msg("user.small", UserMsg{to_bytes("hello")});
  g.msg("user.empty", UserMsg{});

  // ---- packets
  const Bytes ping = encode(Ping{7, "node-b", v4, 7946, "node-a"});
  const Bytes suspect = encode(Suspect{3, "node-b", "node-a"});
  const std::string ping_dump = dump(Message{Ping{7, "node-b", v4, 7946, "node-a"}});
  const std::string suspect_dump = dump(Message{Suspect{3, "node-b", "node-a"}});
  g.add("packet.plain", "packet", {}, ping, ping_dump);
  g.add("packet.crc", "packet", {}, add_crc(ping), ping_dump);
  const std::vector<Bytes> two{ping, suspect};
  g.add("packet.compound2", "packet", {}, *make_compound(two), ping_dump + " ; " + suspect_dump);
  for (size_t n : {20u, 255u}) {
    std::vector<Bytes> parts;
    std::vector<std::string> dumps;
    for (size_t i = 0; i < n; ++i) {
      Alive a{static_cast<uint32_t>(i + 1), "node-" + std::to_string(i), v4, static_cast<uint16_t>(7000 + i),
              std::nullopt, vsn};
      parts.push_back(encode(a));
      dumps.push_back(dump(Message{a}));
    }
    g.add("packet.compound" + std::to_string(n), "packet", {}, *make_compound(parts), join(dumps, " ; "));
  }
  {
    // nested compound inside compress inside compound
    const Bytes inner = *make_compound(two);
    const std::vector<Bytes> outer{compress_payload(inner), encode(NackResp{5})};
    g.add("packet.nested", "packet", {}, *make_compound(outer),
          ping_dump + " ; " + suspect_dump + " ; " + dump(Message{NackResp{5}}));
  }
  {
    // A gossip-sized payload that compresses well, and one that forces LZW table resets.
    std::vector<Bytes> parts;
    std::vector<std::string> dumps;
    for (int i = 0; i < 12; ++i) {
      Alive a{7, "worker-node-" + std::to_string(i), v4, 7946, to_bytes("role=worker,dc=eu-west-1"), vsn};
      parts.push_back(encode(a));
      dumps.push_back(dump(Message{a}));
    }
    PacketOut o;
    o.compress = true;
    g.add("packet.compressed", "packet", {}, *encode_packet(*make_compound(parts), o), join(dumps, " ; "));
    UserMsg big{pseudo_random(20000, 7)};
    for (size_t i = 0; i < big.msg.size(); i += 3) big.msg[i] = 'a';  // compressible, varied
    const Bytes bigmsg = encode_message(big);
    g.add("packet.compressed_reset", "packet", {}, compress_payload(bigmsg), dump(Message{big}));
  }
  // Encryption: several keys, the sender's key not first on the receiver.
  const std::vector<Bytes> keys{Bytes(16, 0x11), Bytes(24, 0x22), Bytes(32, 0x33)};
  const std::string receiver_keys = join_keys(keys);
  for (uint8_t ver : {uint8_t{0}, uint8_t{1}}) {
    for (size_t k = 0; k < keys.size(); ++k) {
      Keyring ring;
      (void)ring.add_key(keys[k]);
      PacketOut o;
      o.keyring = &ring;
      o.encryption_version = ver;
      o.crc = (k == 1);
      g.add("packet.enc_v" + std::to_string(ver) + "_key" + std::to_string(k), "packet", {{"keys", receiver_keys}},
            *encode_packet(ping, o), ping_dump);
    }
  }
  {
    Keyring ring;
    (void)ring.add_key(keys[2]);
    PacketOut o;
    o.keyring = &ring;
    o.label = "prod-cluster";
    o.crc = true;
    o.compress = true;
    const std::string label_hex = to_hex(view(o.label));
    g.add("packet.label_enc_crc", "packet", {{"keys", receiver_keys}, {"label", label_hex}},
          *encode_packet(*make_compound(two), o), ping_dump + " ; " + suspect_dump);
    PacketOut plain;
    plain.label = "prod-cluster";
    g.add("packet.label", "packet", {{"label", label_hex}}, *encode_packet(ping, plain), ping_dump);
    // Errors every decoder must reject.
    g.add("err.label_mismatch", "packet", {{"label", to_hex(view("other"))}, {"error", "1"}},
          *encode_packet(ping, plain), "label differs");
    Keyring wrong;
    (void)wrong.add_key(Bytes(16, 0x99));
    o.keyring = &wrong;
    g.add("err.wrong_key", "packet", {{"keys", receiver_keys}, {"label", label_hex}, {"error", "1"}},
          *encode_packet(ping, o), "no key decrypts");
  }
  {
    Bytes bad = add_crc(ping);
    bad[2] ^= 0x40;
    g.add("err.bad_crc", "packet", {{"error", "1"}}, bad, "CRC mismatch");
    Bytes trunc = *make_compound(two);
    trunc.resize(trunc.size() - 3);
    g.add("err.truncated_compound", "packet", {{"error", "1"}}, trunc, "last part cut off");
    g.add("err.label_len0", "packet", {{"error", "1"}}, Bytes{0xf4, 0x00, 0x00}, "label length 0");
    Compress c{1, lzw_compress(ping)};
    g.add("err.compress_algo", "packet", {{"error", "1"}}, encode(c), "unknown algorithm");
    g.add("err.unknown_type", "packet", {{"error", "1"}}, Bytes{0x63, 0x80}, "unknown message type");
  }

  // ---- streams
  auto node_state = [&](int i, int64_t state) {
    return PushNodeState{"node-" + std::to_string(i), i % 2 ? v4 : v6, static_cast<uint16_t>(7946 + i),
                         to_bytes("m" + std::to_string(i)), static_cast<uint32_t>(i + 1), state, vsn};
  };
  {
    PushPull pp{true, {node_state(0, 0)}, to_bytes("USER")};
    for (IntStyle st : {IntStyle::Legacy, IntStyle::V2}) {
      const std::string sfx = st == IntStyle::V2 ? ".v2" : ".legacy";
      g.add("stream.pushpull_join" + sfx, "stream", {}, encode_push_pull(pp, st), dump(StreamMessage{pp}));
      PushPull big{false, {}, pseudo_random(40000, 3)};
      for (int i = 0; i < 200; ++i) big.nodes.push_back(node_state(i, i % 4));
      g.add("stream.pushpull_200" + sfx, "stream", {}, encode_push_pull(big, st), dump(StreamMessage{big}));
      UserMsg um{pseudo_random(70000, 9)};
      g.add("stream.user_70000" + sfx, "stream", {}, encode_user_stream(um.msg, st), dump(StreamMessage{um}));
    }
    PushPull empty{false, {}, {}};
    g.add("stream.pushpull_empty", "stream", {}, encode_push_pull(empty), dump(StreamMessage{empty}));
    StreamOut o;
    o.compress = true;
    g.add("stream.pushpull_compressed", "stream", {}, *encode_stream(encode_push_pull(pp), o), dump(StreamMessage{pp}));
    Keyring ring;
    (void)ring.add_key(keys[1]);
    o.keyring = &ring;
    o.label = "lbl";
    g.add("stream.pushpull_label_enc_compressed", "stream", {{"keys", receiver_keys}, {"label", "6c626c"}},
          *encode_stream(encode_push_pull(pp), o), dump(StreamMessage{pp}));
    o.compress = false;
    o.encryption_version = 0;
    UserMsg hello{to_bytes("hello")};
    g.add("stream.user_label_enc_v0", "stream", {{"keys", receiver_keys}, {"label", "6c626c"}},
          *encode_stream(encode_user_stream(hello.msg), o), dump(StreamMessage{hello}));
    Ping p{42, "node-b", v4, 7946, "node-a"};
    g.add("stream.ping", "stream", {}, encode(p), dump(StreamMessage{p}));
    AckResp a{42, std::nullopt};
    g.add("stream.ack", "stream", {}, encode(a), dump(StreamMessage{a}));
    ErrResp e{"failed to decrypt remote state"};
    g.add("stream.err", "stream", {}, encode(e), dump(StreamMessage{e}));
    Bytes trunc = encode_push_pull(pp);
    trunc.resize(trunc.size() - 2);
    g.add("err.stream_truncated", "stream", {{"error", "1"}}, trunc, "user state cut off");
    PushPullHeader liar{2000000, 0, false};
    Bytes hdr{6};
    encode_body(hdr, liar);
    g.add("err.stream_too_many_nodes", "stream", {{"error", "1"}}, hdr, "node count over the limit");
  }

  // ---- lzw
  for (auto [name, data] : std::vector<std::pair<std::string, Bytes>>{
           {"lzw.empty", {}}, {"lzw.a20", repeat("a", 20)}, {"lzw.text", to_bytes("TOBEORNOTTOBEORTOBEORNOT#")},
           {"lzw.reset", pseudo_random(60000, 11)}}) {
    g.add(name, "lzw", {}, lzw_compress(data), "0x" + to_hex(data));
  }
  return g.out;
}

// -------------------------------------------------------------------------------------------------
// Explanation (the demo)

namespace {

void explain_payload(std::string &out, ByteView msg, const std::string &indent, size_t depth) {
  if (msg.empty()) {
    out += indent + "(empty message)\n";
    return;
  }
  const Limits limits;
  if (depth > limits.max_nesting) {
    out += indent + "(nested too deep)\n";
    return;
  }
  switch (static_cast<MsgType>(msg[0])) {
    case MsgType::Compound: {
      auto parts = split_compound(msg.subspan(1));
      if (!parts) {
        out += indent + "compound: " + parts.error().to_string() + "\n";
        return;
      }
      out += indent + "compound, " + std::to_string(parts->parts.size()) + " parts" +
             (parts->truncated ? " (" + std::to_string(parts->truncated) + " truncated)" : "") + "\n";
      for (size_t i = 0; i < parts->parts.size(); ++i) {
        out += indent + "  [" + std::to_string(i) + "] " + std::to_string(parts->parts[i].size()) + " bytes\n";
        explain_payload(out, parts->parts[i], indent + "      ", depth + 1);
      }
      return;
    }
    case MsgType::Compress: {
      auto plain = decompress_payload(msg.subspan(1), limits.max_packet_decompressed, limits);
      if (!plain) {
        out += indent + "compress: " + plain.error().to_string() + "\n";
        return;
      }
      out += indent + "LZW compressed: " + std::to_string(msg.size()) + " -> " + std::to_string(plain->size()) +
             " bytes\n";
      explain_payload(out, *plain, indent + "  ", depth + 1);
      return;
    }
    default: {
      auto m = decode_message(msg, limits);
      if (!m) {
        out += indent + msg_type_name(msg[0]) + ": " + m.error().to_string() + "\n";
        return;
      }
      out += indent + dump(*m) + "\n";
    }
  }
}

}  // namespace

std::string explain_vector(const Vector &v) {
  std::string out = v.name + " (" + v.kind + ", " + std::to_string(v.bytes.size()) + " bytes)\n";
  auto rx = receiver_for(v);
  if (!rx) return out + "  bad params: " + rx.error().to_string() + "\n";
  if (v.kind == "packet") {
    ByteView cur = v.bytes;
    auto labeled = strip_label_header(cur);
    if (labeled && !labeled->label.empty()) out += "  label \"" + std::string(labeled->label) + "\"\n";
    PacketIn in;
    in.label = rx->label;
    in.keyring = &rx->keyring;
    in.verify_incoming = rx->verify_incoming;
    auto opened = open_packet(v.bytes, in);
    if (!opened) return out + "  rejected: " + opened.error().to_string() + "\n";
    if (opened->was_encrypted) {
      out += "  AES-GCM, encryption version " + std::to_string(labeled->rest[0]) + ", nonce " +
             to_hex(labeled->rest.subspan(1, kNonceSize)) + "\n";
    }
    if (opened->had_crc) out += "  CRC32 checked\n";
    explain_payload(out, opened->payload, "  ", 0);
  } else if (v.kind == "msg") {
    explain_payload(out, v.bytes, "  ", 0);
  } else {
    auto d = decode_vector(v);
    out += "  " + (d ? *d : "rejected: " + d.error().to_string()) + "\n";
  }
  return out;
}

}  // namespace memberlist::tools
