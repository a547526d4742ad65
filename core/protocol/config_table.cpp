#include "protocol/config_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace memberlist::protocol {

using wire::Errc;
using wire::make_error;
using wire::Ok;

namespace {

wire::Status bad(std::string_view what, std::string_view value) {
  return make_error(Errc::OutOfRange, "expected " + std::string(what) + ", got '" + std::string(value) + "'");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

wire::Result<int64_t> parse_int(std::string_view v, int64_t lo, int64_t hi) {
  v = trim(v);
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
    return make_error(Errc::OutOfRange, "expected an integer, got '" + std::string(v) + "'");
  }
  if (x < lo || x > hi) {
    return make_error(Errc::OutOfRange, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                            "], got " + std::to_string(x));
  }
  return x;
}

// ---- accessors, one per field type. M is a pointer to a Config member.
template <auto M>
wire::Status set_string(Config &c, std::string_view v) {
  c.*M = std::string(v);
  return Ok{};
}
template <auto M>
std::string get_string(const Config &c) {
  return c.*M;
}

template <auto M>
wire::Status set_bool(Config &c, std::string_view v) {
  v = trim(v);
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    c.*M = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    c.*M = false;
  } else {
    return bad("true or false", v);
  }
  return Ok{};
}
template <auto M>
std::string get_bool(const Config &c) {
  return c.*M ? "true" : "false";
}

template <auto M, int64_t Lo, int64_t Hi>
wire::Status set_int(Config &c, std::string_view v) {
  auto x = parse_int(v, Lo, Hi);
  if (!x) return x.error();
  c.*M = static_cast<std::remove_reference_t<decltype(c.*M)>>(*x);
  return Ok{};
}
template <auto M>
std::string get_int(const Config &c) {
  return std::to_string(static_cast<int64_t>(c.*M));
}

// A size limit inside Config::limits.
template <auto L>
wire::Status set_limit(Config &c, std::string_view v) {
  auto x = parse_int(v, 1, int64_t{1} << 40);
  if (!x) return x.error();
  c.limits.*L = static_cast<size_t>(*x);
  return Ok{};
}
template <auto L>
std::string get_limit(const Config &c) {
  return std::to_string(c.limits.*L);
}

template <auto M>
wire::Status set_duration(Config &c, std::string_view v) {
  auto d = parse_duration(v);
  if (!d) return d.error();
  c.*M = *d;
  return Ok{};
}
template <auto M>
std::string get_duration(const Config &c) {
  return format_duration(c.*M);
}

wire::Result<wire::Bytes> parse_base64(std::string_view s) {
  auto val = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
  };
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  wire::Bytes out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : s) {
    const int v = val(ch);
    if (v < 0) return make_error(Errc::OutOfRange, "not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

wire::Status set_secret_key(Config &c, std::string_view v) {
  v = trim(v);
  if (v.empty()) {
    c.secret_key.clear();
    return Ok{};
  }
  // 32, 48 or 64 hex digits, else base64 (memberlist's keys are usually shown in base64).
  if (auto hex = wire::from_hex(v); hex && (hex->size() == 16 || hex->size() == 24 || hex->size() == 32)) {
    c.secret_key = *hex;
    return Ok{};
  }
  auto b64 = parse_base64(v);
  if (!b64 || (b64->size() != 16 && b64->size() != 24 && b64->size() != 32)) {
    return make_error(Errc::OutOfRange, "expected a 16, 24 or 32-byte key in hex or base64");
  }
  c.secret_key = *b64;
  return Ok{};
}
std::string get_secret_key(const Config &c) { return wire::to_hex(c.secret_key); }

wire::Status set_compression(Config &c, std::string_view v) {
  const std::string_view t = trim(v);
  if (t == "lzw" || t.empty()) {
    c.compression = wire::Compression::Lzw;
  } else if (t == "snappy") {
    c.compression = wire::Compression::Snappy;
  } else {
    return bad("compression_algorithm lzw or snappy", v);
  }
  return Ok{};
}
std::string get_compression(const Config &c) { return c.compression == wire::Compression::Snappy ? "snappy" : "lzw"; }

wire::Status set_cidrs(Config &c, std::string_view v) {
  std::vector<std::string> out;
  while (!trim(v).empty()) {
    const size_t comma = v.find(',');
    const std::string_view item = trim(v.substr(0, comma));
    if (auto r = parse_cidr(item); !r) return r.error();
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  c.cidrs_allowed = std::move(out);
  return Ok{};
}
std::string get_cidrs(const Config &c) {
  std::string s;
  for (const auto &x : c.cidrs_allowed) s += (s.empty() ? "" : ",") + x;
  return s;
}

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

using PT = PropertyType;
const std::array kTable{
    Property{"name", "Name", PT::String, "Unique node name.", set_string<&Config::name>, get_string<&Config::name>},
    Property{"label", "Label", PT::String, "Cluster label (at most 255 bytes): traffic with another label is dropped.",
             set_string<&Config::label>, get_string<&Config::label>},
    Property{"skip_inbound_label_check", "SkipInboundLabelCheck", PT::Bool,
             "Accept unlabeled traffic as if it carried our label.", set_bool<&Config::skip_inbound_label_check>,
             get_bool<&Config::skip_inbound_label_check>},
    Property{"bind_addr", "BindAddr", PT::String, "Address to bind UDP and TCP to.", set_string<&Config::bind_addr>,
             get_string<&Config::bind_addr>},
    Property{"bind_port", "BindPort", PT::Int, "Port for UDP and TCP; 0 = chosen by the kernel.",
             set_int<&Config::bind_port, 0, 65535>, get_int<&Config::bind_port>},
    Property{"advertise_addr", "AdvertiseAddr", PT::String, "Address peers should use; empty = the bound one.",
             set_string<&Config::advertise_addr>, get_string<&Config::advertise_addr>},
    Property{"advertise_port", "AdvertisePort", PT::Int, "Port peers should use.",
             set_int<&Config::advertise_port, 0, 65535>, get_int<&Config::advertise_port>},
    Property{"protocol_version", "ProtocolVersion", PT::Int, "Protocol version spoken, 1..5.",
             set_int<&Config::protocol_version, 1, 5>, get_int<&Config::protocol_version>},
    Property{"tcp_timeout", "TCPTimeout", PT::Dur, "Deadline for a TCP exchange (dial included).",
             set_duration<&Config::tcp_timeout>, get_duration<&Config::tcp_timeout>},
    Property{"indirect_checks", "IndirectChecks", PT::Int, "Nodes asked to ping a target that missed a direct ping.",
             set_int<&Config::indirect_checks, 0, 64>, get_int<&Config::indirect_checks>},
    Property{"retransmit_mult", "RetransmitMult", PT::Int, "Gossip retransmissions: this x ceil(log10(n+1)).",
             set_int<&Config::retransmit_mult, 1, 64>, get_int<&Config::retransmit_mult>},
    Property{"suspicion_mult", "SuspicionMult", PT::Int,
             "Suspicion timeout: this x max(1, log10(n)) x probe_interval (the minimum).",
             set_int<&Config::suspicion_mult, 1, 64>, get_int<&Config::suspicion_mult>},
    Property{"suspicion_max_timeout_mult", "SuspicionMaxTimeoutMult", PT::Int,
             "Suspicion starts at this x the minimum without confirmations.",
             set_int<&Config::suspicion_max_timeout_mult, 1, 64>, get_int<&Config::suspicion_max_timeout_mult>},
    Property{"push_pull_interval", "PushPullInterval", PT::Dur,
             "Full state sync with a random node (scaled up past 32 nodes); 0 = off.",
             set_duration<&Config::push_pull_interval>, get_duration<&Config::push_pull_interval>},
    Property{"push_pull_nodes", "", PT::Int,
             "Nodes to push/pull with per push/pull interval; 0 = 1 (grafana/memberlist's PushPullNodes).",
             set_int<&Config::push_pull_nodes, 0, 1024>, get_int<&Config::push_pull_nodes>},
    Property{"probe_interval", "ProbeInterval", PT::Dur, "Failure detection: one probe per interval.",
             set_duration<&Config::probe_interval>, get_duration<&Config::probe_interval>},
    Property{"probe_timeout", "ProbeTimeout", PT::Dur,
             "Wait for a direct ack before asking others (at most probe_interval, as in memberlist).",
             set_duration<&Config::probe_timeout>, get_duration<&Config::probe_timeout>},
    Property{"disable_tcp_pings", "DisableTcpPings", PT::Bool, "Never fall back to a TCP ping.",
             set_bool<&Config::disable_tcp_pings>, get_bool<&Config::disable_tcp_pings>},
    Property{"awareness_max_multiplier", "AwarenessMaxMultiplier", PT::Int,
             "Lifeguard: probe interval scales up to this x when this node is unhealthy.",
             set_int<&Config::awareness_max_multiplier, 1, 64>, get_int<&Config::awareness_max_multiplier>},
    Property{"gossip_interval", "GossipInterval", PT::Dur, "Gossip round interval; 0 = off.",
             set_duration<&Config::gossip_interval>, get_duration<&Config::gossip_interval>},
    Property{"gossip_nodes", "GossipNodes", PT::Int, "Nodes gossiped to per round.",
             set_int<&Config::gossip_nodes, 0, 1024>, get_int<&Config::gossip_nodes>},
    Property{"gossip_to_the_dead_time", "GossipToTheDeadTime", PT::Dur,
             "Keep gossiping to a dead node this long (and keep it in the list).",
             set_duration<&Config::gossip_to_the_dead_time>, get_duration<&Config::gossip_to_the_dead_time>},
    Property{"gossip_verify_incoming", "GossipVerifyIncoming", PT::Bool,
             "With encryption: refuse unencrypted input.", set_bool<&Config::gossip_verify_incoming>,
             get_bool<&Config::gossip_verify_incoming>},
    Property{"gossip_verify_outgoing", "GossipVerifyOutgoing", PT::Bool, "With encryption: encrypt output.",
             set_bool<&Config::gossip_verify_outgoing>, get_bool<&Config::gossip_verify_outgoing>},
    Property{"enable_compression", "EnableCompression", PT::Bool,
             "Compress packets (when smaller) and streams, with compression_algorithm.",
             set_bool<&Config::enable_compression>, get_bool<&Config::enable_compression>},
    Property{"compression_algorithm", "", PT::String,
             "What enable_compression sends: lzw (every memberlist) or snappy (grafana/memberlist's "
             "CompressionAlgorithm, and ours); both are always accepted.",
             set_compression, get_compression},
    Property{"secret_key", "SecretKey", PT::Bin, "AES key (16, 24 or 32 bytes, hex or base64); empty = none.",
             set_secret_key, get_secret_key},
    Property{"delegate_protocol_version", "DelegateProtocolVersion", PT::Int, "Application protocol version.",
             set_int<&Config::delegate_protocol_version, 0, 255>, get_int<&Config::delegate_protocol_version>},
    Property{"delegate_protocol_min", "DelegateProtocolMin", PT::Int, "Lowest application protocol understood.",
             set_int<&Config::delegate_protocol_min, 0, 255>, get_int<&Config::delegate_protocol_min>},
    Property{"delegate_protocol_max", "DelegateProtocolMax", PT::Int, "Highest application protocol understood.",
             set_int<&Config::delegate_protocol_max, 0, 255>, get_int<&Config::delegate_protocol_max>},
    Property{"dns_config_path", "DNSConfigPath", PT::String, "resolv.conf used to resolve join addresses.",
             set_string<&Config::dns_config_path>, get_string<&Config::dns_config_path>},
    Property{"handoff_queue_depth", "HandoffQueueDepth", PT::Int, "Queued gossip messages before dropping.",
             set_int<&Config::handoff_queue_depth, 1, kIntMax>, get_int<&Config::handoff_queue_depth>},
    Property{"udp_buffer_size", "UDPBufferSize", PT::Int, "Packet budget for gossip and piggybacking (at most 65507; with tcp_only, max_tcp_packet).",
             set_int<&Config::udp_buffer_size, 64, int64_t{1} << 30>, get_int<&Config::udp_buffer_size>},
    Property{"dead_node_reclaim_time", "DeadNodeReclaimTime", PT::Dur,
             "A dead node's name may come back from another address after this; 0 = never.",
             set_duration<&Config::dead_node_reclaim_time>, get_duration<&Config::dead_node_reclaim_time>},
    Property{"require_node_names", "RequireNodeNames", PT::Bool, "Refuse to send to an address without a name.",
             set_bool<&Config::require_node_names>, get_bool<&Config::require_node_names>},
    Property{"cidrs_allowed", "CIDRsAllowed", PT::List, "Comma-separated networks nodes may come from; empty = all.",
             set_cidrs, get_cidrs},
    Property{"queue_check_interval", "QueueCheckInterval", PT::Dur, "How often queue depth metrics sample.",
             set_duration<&Config::queue_check_interval>, get_duration<&Config::queue_check_interval>},
    Property{"lifeguard", "", PT::Bool,
             "Lifeguard: awareness, dynamic suspicion, buddy system, final check before declaring dead. "
             "false = plain SWIM.",
             set_bool<&Config::lifeguard>, get_bool<&Config::lifeguard>},
    Property{"reconnect_interval", "", PT::Dur,
             "Push/pull with a random failed node this often, so partitions heal; 0 = off (memberlist).",
             set_duration<&Config::reconnect_interval>, get_duration<&Config::reconnect_interval>},
    Property{"reconnect_timeout", "", PT::Dur, "Forget failed nodes for reconnecting after this.",
             set_duration<&Config::reconnect_timeout>, get_duration<&Config::reconnect_timeout>},
    Property{"max_concurrent_push_pulls", "", PT::Int, "Inbound push/pulls served at once (memberlist: 128).",
             set_int<&Config::max_concurrent_push_pulls, 1, 65536>, get_int<&Config::max_concurrent_push_pulls>},
    Property{"meta_max_size", "", PT::Int,
             "Most metadata this node may have (bytes; memberlist: 512). Over 512 only for clusters of "
             "libmemberlist nodes with the same setting; raises max_meta to match (docs/protocol.md).",
             set_int<&Config::meta_max_size, 0, kMetaMaxSizeCeiling>, get_int<&Config::meta_max_size>},
    Property{"reclaim_name_on_new_address", "", PT::Bool,
             "A known name may move to a new address: at once when its holder is dead, after a ping to "
             "the old address goes unanswered (probe_timeout) when it is alive or suspect; an answer is a "
             "conflict, as in memberlist. false = memberlist (docs/protocol.md, \"Name reuse\").",
             set_bool<&Config::reclaim_name_on_new_address>, get_bool<&Config::reclaim_name_on_new_address>},
    Property{"tcp_only", "", PT::Bool,
             "TCP-only transport in Grafana dskit's framing (joins Loki/Mimir/Tempo rings): no UDP socket, one "
             "connection per packet. Not mixable with UDP nodes (docs/transport-tcp.md).",
             set_bool<&Config::tcp_only>, get_bool<&Config::tcp_only>},
    Property{"max_packet_decompressed", "", PT::Int, "Bound: decompressed size inside one UDP packet (bytes).",
             set_limit<&wire::Limits::max_packet_decompressed>, get_limit<&wire::Limits::max_packet_decompressed>},
    Property{"max_stream_decompressed", "", PT::Int, "Bound: decompressed size of a stream message (bytes).",
             set_limit<&wire::Limits::max_stream_decompressed>, get_limit<&wire::Limits::max_stream_decompressed>},
    Property{"max_encrypted_stream", "", PT::Int, "Bound: encrypted stream frame (bytes).",
             set_limit<&wire::Limits::max_encrypted_stream>, get_limit<&wire::Limits::max_encrypted_stream>},
    Property{"max_stream_bytes", "", PT::Int, "Bound: plaintext stream message buffered (bytes).",
             set_limit<&wire::Limits::max_stream_bytes>, get_limit<&wire::Limits::max_stream_bytes>},
    Property{"max_push_pull_nodes", "", PT::Int, "Bound: node states in one push/pull.",
             set_limit<&wire::Limits::max_push_pull_nodes>, get_limit<&wire::Limits::max_push_pull_nodes>},
    Property{"max_user_state", "", PT::Int, "Bound: user state in one push/pull (bytes).",
             set_limit<&wire::Limits::max_user_state>, get_limit<&wire::Limits::max_user_state>},
    Property{"max_user_msg", "", PT::Int, "Bound: one reliable user message (bytes).",
             set_limit<&wire::Limits::max_user_msg>, get_limit<&wire::Limits::max_user_msg>},
    Property{"max_stream_memory", "", PT::Int,
             "Bound: memory the streams being read hold at once, buffered and decoded (bytes).",
             set_limit<&wire::Limits::max_stream_memory>, get_limit<&wire::Limits::max_stream_memory>},
    Property{"max_tcp_packet", "", PT::Int,
             "Bound: body of one packet received with tcp_only (bytes); more is cut off. Also the largest "
             "packet sent and the most udp_buffer_size may be with tcp_only.",
             set_limit<&wire::Limits::max_tcp_packet>, get_limit<&wire::Limits::max_tcp_packet>},
    Property{"max_meta", "", PT::Int, "Bound: metadata accepted from a peer (bytes); at least meta_max_size.",
             set_limit<&wire::Limits::max_meta>, get_limit<&wire::Limits::max_meta>},
};

const char *type_name(PropertyType t) {
  switch (t) {
    case PT::String: return "string";
    case PT::Bool: return "bool";
    case PT::Int: return "int";
    case PT::Dur: return "duration";
    case PT::Bin: return "bytes";
    case PT::List: return "list";
  }
  return "?";
}

}  // namespace

std::span<const Property> properties() { return kTable; }

const Property *find_property(std::string_view key) {
  for (const auto &p : kTable) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

wire::Status set_property(Config &cfg, std::string_view key, std::string_view value) {
  const Property *p = find_property(key);
  if (!p) return make_error(Errc::BadType, "unknown configuration key '" + std::string(key) + "'");
  Config copy = cfg;
  if (auto st = p->set(copy, value); !st) {
    return make_error(st.error().code, std::string(key) + ": " + st.error().message);
  }
  cfg = std::move(copy);
  return Ok{};
}

wire::Result<std::string> get_property(const Config &cfg, std::string_view key) {
  const Property *p = find_property(key);
  if (!p) return make_error(Errc::BadType, "unknown configuration key '" + std::string(key) + "'");
  return p->get(cfg);
}

wire::Result<Duration> parse_duration(std::string_view s) {
  const std::string orig(s);
  s = trim(s);
  auto fail = [&] {
    return wire::Result<Duration>(make_error(Errc::OutOfRange, "expected a duration like 500ms or 1m30s, got '" + orig + "'"));
  };
  if (s.empty()) return fail();
  bool neg = false;
  if (s.front() == '-' || s.front() == '+') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return fail();
    const std::string num(s.substr(0, i));
    if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return fail();
    const long double value = std::stold(num);
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && !((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
    const std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    long double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return fail();
    total += value * scale;
  }
  if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return fail();
  const auto ns = static_cast<int64_t>(std::llround(total));
  return Duration{neg ? -ns : ns};
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  auto frac = [](int64_t v, int64_t unit, const char *suffix) {
    std::string s = std::to_string(v / unit);
    if (int64_t rest = v % unit) {
      std::string f = std::to_string(rest);
      f.insert(0, std::to_string(unit).size() - 1 - f.size(), '0');
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s + suffix;
  };
  if (ns < 1000) return out + std::to_string(ns) + "ns";
  if (ns < 1000000) return out + frac(ns, 1000, "us");
  if (ns < 1000000000) return out + frac(ns, 1000000, "ms");
  const int64_t h = ns / 3600000000000, m = ns / 60000000000 % 60;
  const int64_t rest = ns % 60000000000;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + frac(rest, 1000000000, "s");
}

std::string config_reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the property table in `core/protocol/config_table.cpp` (do not edit by hand; the test\n"
      "`core.sim.ConfigTable.ReferenceIsCurrent` fails when this page is stale).\n\n"
      "Keys are set with `ml_config_set(cfg, key, value)`. Durations use Go syntax (`500ms`, `1m30s`).\n"
      "Rows without a memberlist name are libmemberlist's own.\n\n"
      "| key | memberlist | type | LAN | WAN | Local | meaning |\n|---|---|---|---|---|---|---|\n";
  const Config lan = Config::lan(), wan = Config::wan(), local = Config::local();
  for (const auto &p : kTable) {
    auto cell = [](std::string v) { return v.empty() ? std::string("\"\"") : "`" + v + "`"; };
    out += "| `" + std::string(p.key) + "` | " + (p.go_name.empty() ? "" : "`" + std::string(p.go_name) + "`") + " | " +
           type_name(p.type) + " | " + cell(p.get(lan)) + " | " + cell(p.get(wan)) + " | " + cell(p.get(local)) +
           " | " + std::string(p.doc) + " |\n";
  }
  return out;
}

}  // namespace memberlist::protocol
