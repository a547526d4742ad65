// wire_bench: encode/decode throughput of core/wire for the workloads that bench/go (the same
// operations through hashicorp/memberlist v0.7.0's own functions) measures. One TSV line per
// operation, the same format as the Go side:
//
//   cpp <TAB> workload <TAB> op <TAB> ns/op <TAB> MB/s <TAB> bytes <TAB> iterations
//
// Method: a warm-up run sizes the iteration count so one repetition lasts at least --min-time
// (default 0.5 s); --reps repetitions (default 5) are timed with steady_clock and the best is
// reported. Before timing, every workload is checked to round-trip (decode(encode(x)) == x and
// the re-encoding is byte-identical); a failed check exits 1.
//
//   wire_bench [--min-time SECONDS] [--reps N] [--only WORKLOAD]
//   wire_bench --dump DIR     write the encodings to DIR/cpp_<name>.bin (run_wire.sh compares
//                             them with bench/go's) and exit
//   wire_bench --smoke        checks plus every timed loop run a few times; no timing output
//
// All encodings use IntStyle::V2, the form go-msgpack/v2 (memberlist >= v0.5.1) writes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "wire/codec.hpp"
#include "wire/framing.hpp"
#include "wire/messages.hpp"
#include "wire/stream.hpp"

namespace {

using namespace memberlist::wire;
using Clock = std::chrono::steady_clock;

constexpr IntStyle kStyle = IntStyle::V2;

// Keeps the optimizer from discarding a result.
template <class T>
inline void keep(T const &v) {
  asm volatile("" : : "r,m"(v) : "memory");
}

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "wire_bench: %s\n", what.c_str());
  std::exit(1);
}

// ---------------------------------------------------------------------------------------------
// Fixtures (the same rules as bench/go/main.go)

const Bytes kVsn{1, 5, 2, 0, 0, 0};

std::string fmt(const char *f, int v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

Alive fixture_alive() {
  return Alive{42, "node-alpha-1", Bytes{10, 0, 1, 17}, 7946, to_bytes("region=eu;role=web01"), kVsn};
}

Ping fixture_ping() { return Ping{70001, "node-bravo-2", Bytes{10, 0, 1, 17}, 7946, "node-alpha-1"}; }

// 20 gossip messages: i%4 in {0,1} alive, 2 suspect, 3 dead.
std::vector<Message> fixture_compound() {
  std::vector<Message> msgs;
  for (int i = 0; i < 20; ++i) {
    std::string name = fmt("node-%07d", i);
    auto inc = static_cast<uint32_t>(100 + i);
    switch (i % 4) {
      case 0:
      case 1:
        msgs.emplace_back(Alive{inc, name, Bytes{10, 0, 0, static_cast<uint8_t>(i + 1)}, 7946,
                                to_bytes(fmt("region=eu;role=web%02d", i)), kVsn});
        break;
      case 2: msgs.emplace_back(Suspect{inc, name, "node-alpha-1"}); break;
      default: msgs.emplace_back(Dead{inc, name, "node-alpha-1"}); break;
    }
  }
  return msgs;
}

int64_t node_state(int i) {
  if (i % 50 == 7) return static_cast<int64_t>(NodeState::Dead);
  if (i % 20 == 3) return static_cast<int64_t>(NodeState::Suspect);
  if (i % 100 == 99) return static_cast<int64_t>(NodeState::Left);
  return static_cast<int64_t>(NodeState::Alive);
}

PushPull fixture_push_pull(int n) {
  PushPull pp;
  pp.join = false;
  for (int i = 0; i < n; ++i) {
    pp.nodes.push_back(PushNodeState{fmt("node-%05d", i),
                                     Bytes{10, 1, static_cast<uint8_t>(i / 256), static_cast<uint8_t>(i % 256)},
                                     7946, to_bytes(fmt("dc=eu-west-1;rack=r%03d;role=db", i % 1000)),
                                     static_cast<uint32_t>(1000 + i * 37), node_state(i), kVsn});
  }
  pp.user_state.resize(1024);
  for (size_t j = 0; j < pp.user_state.size(); ++j) pp.user_state[j] = static_cast<uint8_t>((j * 131 + 7) % 256);
  return pp;
}

// ---------------------------------------------------------------------------------------------
// The operations (each one is exactly what a timed iteration does)

Bytes build_compound(const std::vector<Message> &msgs) {
  std::vector<Bytes> parts;
  parts.reserve(msgs.size());
  for (const auto &m : msgs) parts.push_back(encode_message(m, kStyle));
  auto c = make_compound(parts);
  if (!c) die("make_compound: " + c.error().to_string());
  return std::move(c.value());
}

// Split + decode each part (the part's own type byte selects the struct).
std::vector<Message> decode_compound(ByteView buf) {
  if (buf.empty() || buf[0] != static_cast<uint8_t>(MsgType::Compound)) die("not a compound");
  auto split = split_compound(buf.subspan(1));
  if (!split || split->truncated) die("split_compound failed");
  std::vector<Message> out;
  out.reserve(split->parts.size());
  for (ByteView part : split->parts) {
    auto m = decode_message(part);
    if (!m) die("compound part: " + m.error().to_string());
    out.push_back(std::move(m.value()));
  }
  return out;
}

template <class S>
S decode_as(ByteView b) {
  auto m = decode_message(b);
  if (!m) die("decode_message: " + m.error().to_string());
  auto *v = std::get_if<S>(&m.value());
  if (!v) die("decode_message: unexpected message kind");
  return std::move(*v);
}

// encode ping, decode ping, encode the ackResp answering it, decode ackResp.
AckResp ping_ack_round(const Ping &p) {
  Bytes pb = encode(p, kStyle);
  Ping got = decode_as<Ping>(pb);
  Bytes ab = encode(AckResp{got.seq_no, std::nullopt}, kStyle);
  return decode_as<AckResp>(ab);
}

PushPull decode_push_pull(ByteView b) {
  auto r = StreamDecoder::decode(b, StreamIn{});
  if (!r) die("push/pull decode: " + r.error().to_string());
  auto *pp = std::get_if<PushPull>(&r.value());
  if (!pp) die("push/pull decode: not a push/pull");
  return std::move(*pp);
}

// ---------------------------------------------------------------------------------------------
// Harness

struct Options {
  double min_time = 0.5;
  int reps = 5;
  bool smoke = false;
  std::string only;
  std::string dump;
};

struct Bench {
  const char *workload;
  const char *op;
  size_t bytes;  // payload size the MB/s column is computed from
  std::function<void()> fn;
};

double time_ns(const std::function<void()> &fn, uint64_t iters) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < iters; ++i) fn();
  auto t1 = Clock::now();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

void run(const Bench &b, const Options &o) {
  if (o.smoke) {
    time_ns(b.fn, 3);
    std::printf("smoke\t%s\t%s\tok\n", b.workload, b.op);
    return;
  }
  // Warm-up, sizing the iteration count: grow until a batch lasts >= 1/10 of min_time.
  uint64_t iters = 1;
  double ns = time_ns(b.fn, iters);
  const double target = o.min_time * 1e9;
  while (ns < target / 10) {
    iters *= 4;
    ns = time_ns(b.fn, iters);
  }
  iters = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(target / (ns / static_cast<double>(iters)))));
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < o.reps; ++r) best = std::min(best, time_ns(b.fn, iters) / static_cast<double>(iters));
  const double mbps = static_cast<double>(b.bytes) / best * 1e3;
  std::printf("cpp\t%s\t%s\t%.1f\t%.1f\t%zu\t%llu\n", b.workload, b.op, best, mbps, b.bytes,
              static_cast<unsigned long long>(iters));
  std::fflush(stdout);
}

void write_file(const std::string &path, const Bytes &b) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) die("cannot write " + path);
  if (std::fwrite(b.data(), 1, b.size(), f) != b.size()) die("short write to " + path);
  std::fclose(f);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) die(std::string("missing value for ") + argv[i]);
      return argv[++i];
    };
    if (a == "--min-time") {
      o.min_time = std::atof(next());
    } else if (a == "--reps") {
      o.reps = std::max(1, std::atoi(next()));
    } else if (a == "--only") {
      o.only = next();
    } else if (a == "--dump") {
      o.dump = next();
    } else if (a == "--smoke") {
      o.smoke = true;
    } else {
      die("usage: wire_bench [--min-time S] [--reps N] [--only WORKLOAD] [--dump DIR] [--smoke]");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse(argc, argv);

  const Alive alive = fixture_alive();
  const Ping ping = fixture_ping();
  const std::vector<Message> msgs = fixture_compound();
  const PushPull pp = fixture_push_pull(1000);

  const Bytes alive_enc = encode(alive, kStyle);
  const Bytes ping_enc = encode(ping, kStyle);
  const Bytes ack_enc = encode(AckResp{ping.seq_no, std::nullopt}, kStyle);
  const Bytes compound = build_compound(msgs);
  const Bytes pp_enc = encode_push_pull(pp, kStyle);

  // Round-trip checks.
  auto check = [](bool ok, const std::string &what) {
    if (!ok) die("round-trip check failed: " + what);
  };
  check(decode_as<Alive>(alive_enc) == alive && encode(decode_as<Alive>(alive_enc), kStyle) == alive_enc, "alive");
  check(decode_as<Ping>(ping_enc) == ping && encode(decode_as<Ping>(ping_enc), kStyle) == ping_enc, "ping");
  {
    AckResp ack = ping_ack_round(ping);
    check(ack.seq_no == ping.seq_no && !ack.payload, "ping/ack round");
    check(encode(decode_as<AckResp>(ack_enc), kStyle) == ack_enc, "ack");
  }
  {
    auto dec = decode_compound(compound);
    check(dec == msgs, "compound parts");
    check(build_compound(dec) == compound, "compound re-encoding");
  }
  {
    PushPull got = decode_push_pull(pp_enc);
    check(got == pp, "push/pull");
    check(encode_push_pull(got, kStyle) == pp_enc, "push/pull re-encoding");
  }

  // Go's bytes for the same fixtures (written by bench/go -dump, memberlist v0.7.0 + go-msgpack/v2
  // v2.1.5), so the smoke test catches a loss of byte-identity without Go at hand.
  // prefix: only the first bytes are given.
  auto golden = [&](const Bytes &got, std::string_view hex, const char *what, bool prefix = false) {
    auto want = from_hex(hex);
    check(want && (prefix ? got.size() >= want->size() : got.size() == want->size()) &&
              std::equal(want->begin(), want->end(), got.begin()),
          std::string(what) + " differs from Go's encoding: " + to_hex(got).substr(0, hex.size()));
  };
  golden(alive_enc,
         "0486a441646472a40a000111ab496e6361726e6174696f6e2aa44d657461b4726567696f6e3d65753b726f6c653d776562"
         "3031a44e6f6465ac6e6f64652d616c7068612d31a4506f7274cd1f0aa356736ea6010502000000",
         "alive");
  golden(ping_enc,
         "0085a44e6f6465ac6e6f64652d627261766f2d32a55365714e6fce00011171aa536f7572636541646472a40a000111aa53"
         "6f757263654e6f6465ac6e6f64652d616c7068612d31aa536f75726365506f7274cd1f0a",
         "ping");
  golden(ack_enc, "0282a75061796c6f6164c0a55365714e6fce00011171", "ackResp");
  // push/pull: the header (Nodes 1000 and UserStateLen 1024 as go-msgpack/v2 int16) and size.
  golden(pp_enc, "0683a44a6f696ec2a54e6f646573d103e8ac5573657253746174654c656ed10400", "push/pull header", true);
  check(pp_enc.size() == 105057 && compound.size() == 1432, "compound / push/pull sizes");

  if (!o.dump.empty()) {
    write_file(o.dump + "/cpp_alive.bin", alive_enc);
    write_file(o.dump + "/cpp_ping.bin", ping_enc);
    write_file(o.dump + "/cpp_ack.bin", ack_enc);
    write_file(o.dump + "/cpp_compound.bin", compound);
    write_file(o.dump + "/cpp_pushpull.bin", pp_enc);
    return 0;
  }

  const std::vector<Bench> benches = {
      {"alive", "encode", alive_enc.size(), [&] { keep(encode(alive, kStyle)); }},
      {"alive", "decode", alive_enc.size(), [&] { keep(decode_as<Alive>(alive_enc)); }},
      {"ping_ack", "encode_ping", ping_enc.size(), [&] { keep(encode(ping, kStyle)); }},
      {"ping_ack", "decode_ping", ping_enc.size(), [&] { keep(decode_as<Ping>(ping_enc)); }},
      {"ping_ack", "encode_ack", ack_enc.size(),
       [&] { keep(encode(AckResp{ping.seq_no, std::nullopt}, kStyle)); }},
      {"ping_ack", "decode_ack", ack_enc.size(), [&] { keep(decode_as<AckResp>(ack_enc)); }},
      {"ping_ack", "round", ping_enc.size() + ack_enc.size(), [&] { keep(ping_ack_round(ping)); }},
      {"compound20", "build", compound.size(), [&] { keep(build_compound(msgs)); }},
      {"compound20", "decode", compound.size(), [&] { keep(decode_compound(compound)); }},
      {"pushpull1000", "encode", pp_enc.size(), [&] { keep(encode_push_pull(pp, kStyle)); }},
      {"pushpull1000", "decode", pp_enc.size(), [&] { keep(decode_push_pull(pp_enc)); }},
  };
  for (const auto &b : benches) {
    if (!o.only.empty() && o.only != b.workload) continue;
    run(b, o);
  }
  return 0;
}
