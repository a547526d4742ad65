// msgpack codec for memberlist's structs. One schema per struct (Go field name, member, Go
// declaration index, omitempty) drives encoding, decoding and the canonical dump.
#include "wire/codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <tuple>

#include <msgpack.hpp>

namespace memberlist::wire {
namespace {

// ---------------------------------------------------------------------------------------------
// Schemas

template <class S, class M>
struct Field {
  std::string_view name;  // Go field name, the msgpack map key
  M S::*member;
  int decl;               // position in the Go declaration (array-encoded structs are positional)
  bool omitempty;
};

template <class S, class M>
constexpr Field<S, M> fld(std::string_view name, M S::*member, int decl, bool omitempty = false) {
  return {name, member, decl, omitempty};
}

template <class T> struct Schema;

// Fields are listed in ascending byte order of their Go names: the order Go writes them.
template <> struct Schema<Ping> {
  static constexpr MsgType type = MsgType::Ping;
  static constexpr std::string_view name = "ping";
  static constexpr auto fields = std::make_tuple(
      fld("Node", &Ping::node, 1), fld("SeqNo", &Ping::seq_no, 0),
      fld("SourceAddr", &Ping::source_addr, 2, true), fld("SourceNode", &Ping::source_node, 4, true),
      fld("SourcePort", &Ping::source_port, 3, true));
};
template <> struct Schema<IndirectPingReq> {
  static constexpr MsgType type = MsgType::IndirectPing;
  static constexpr std::string_view name = "indirectPingReq";
  static constexpr auto fields = std::make_tuple(
      fld("Nack", &IndirectPingReq::nack, 4), fld("Node", &IndirectPingReq::node, 3),
      fld("Port", &IndirectPingReq::port, 2), fld("SeqNo", &IndirectPingReq::seq_no, 0),
      fld("SourceAddr", &IndirectPingReq::source_addr, 5, true),
      fld("SourceNode", &IndirectPingReq::source_node, 7, true),
      fld("SourcePort", &IndirectPingReq::source_port, 6, true),
      fld("Target", &IndirectPingReq::target, 1));
};
template <> struct Schema<AckResp> {
  static constexpr MsgType type = MsgType::AckResp;
  static constexpr std::string_view name = "ackResp";
  static constexpr auto fields =
      std::make_tuple(fld("Payload", &AckResp::payload, 1), fld("SeqNo", &AckResp::seq_no, 0));
};
template <> struct Schema<NackResp> {
  static constexpr MsgType type = MsgType::NackResp;
  static constexpr std::string_view name = "nackResp";
  static constexpr auto fields = std::make_tuple(fld("SeqNo", &NackResp::seq_no, 0));
};
template <> struct Schema<ErrResp> {
  static constexpr MsgType type = MsgType::Err;
  static constexpr std::string_view name = "errResp";
  static constexpr auto fields = std::make_tuple(fld("Error", &ErrResp::error, 0));
};
template <> struct Schema<Suspect> {
  static constexpr MsgType type = MsgType::Suspect;
  static constexpr std::string_view name = "suspect";
  static constexpr auto fields =
      std::make_tuple(fld("From", &Suspect::from, 2), fld("Incarnation", &Suspect::incarnation, 0),
                      fld("Node", &Suspect::node, 1));
};
template <> struct Schema<Dead> {
  static constexpr MsgType type = MsgType::Dead;
  static constexpr std::string_view name = "dead";
  static constexpr auto fields =
      std::make_tuple(fld("From", &Dead::from, 2), fld("Incarnation", &Dead::incarnation, 0),
                      fld("Node", &Dead::node, 1));
};
template <> struct Schema<Alive> {
  static constexpr MsgType type = MsgType::Alive;
  static constexpr std::string_view name = "alive";
  static constexpr auto fields = std::make_tuple(
      fld("Addr", &Alive::addr, 2), fld("Incarnation", &Alive::incarnation, 0),
      fld("Meta", &Alive::meta, 4), fld("Node", &Alive::node, 1), fld("Port", &Alive::port, 3),
      fld("Vsn", &Alive::vsn, 5));
};
template <> struct Schema<PushPullHeader> {
  static constexpr MsgType type = MsgType::PushPull;
  static constexpr std::string_view name = "pushPullHeader";
  static constexpr auto fields = std::make_tuple(fld("Join", &PushPullHeader::join, 2),
                                                 fld("Nodes", &PushPullHeader::nodes, 0),
                                                 fld("UserStateLen", &PushPullHeader::user_state_len, 1));
};
template <> struct Schema<PushNodeState> {
  static constexpr MsgType type = MsgType::PushPull;
  static constexpr std::string_view name = "pushNodeState";
  static constexpr auto fields = std::make_tuple(
      fld("Addr", &PushNodeState::addr, 1), fld("Incarnation", &PushNodeState::incarnation, 4),
      fld("Meta", &PushNodeState::meta, 3), fld("Name", &PushNodeState::name, 0),
      fld("Port", &PushNodeState::port, 2), fld("State", &PushNodeState::state, 5),
      fld("Vsn", &PushNodeState::vsn, 6));
};
template <> struct Schema<UserMsgHeader> {
  static constexpr MsgType type = MsgType::User;
  static constexpr std::string_view name = "userMsgHeader";
  static constexpr auto fields = std::make_tuple(fld("UserMsgLen", &UserMsgHeader::user_msg_len, 0));
};
template <> struct Schema<Compress> {
  static constexpr MsgType type = MsgType::Compress;
  static constexpr std::string_view name = "compress";
  static constexpr auto fields =
      std::make_tuple(fld("Algo", &Compress::algo, 0), fld("Buf", &Compress::buf, 1));
};

template <class F>
constexpr void for_each_field(const auto &tuple, F &&f) {
  std::apply([&](const auto &...field) { (f(field), ...); }, tuple);
}

template <class T>
constexpr bool schema_sorted() {
  std::array<std::string_view, std::tuple_size_v<decltype(Schema<T>::fields)>> names{};
  size_t i = 0;
  for_each_field(Schema<T>::fields, [&](const auto &f) { names[i++] = f.name; });
  return std::is_sorted(names.begin(), names.end());
}
static_assert(schema_sorted<Ping>() && schema_sorted<IndirectPingReq>() && schema_sorted<AckResp>() &&
              schema_sorted<Suspect>() && schema_sorted<Dead>() && schema_sorted<Alive>() &&
              schema_sorted<PushPullHeader>() && schema_sorted<PushNodeState>() &&
              schema_sorted<Compress>());

// ---------------------------------------------------------------------------------------------
// Encoding

struct Sink {
  Bytes *out;
  void write(const char *p, size_t n) { out->insert(out->end(), p, p + n); }
};
using Packer = msgpack::packer<Sink>;

void put(Packer &p, uint8_t v, IntStyle) { p.pack_uint8(v); }
void put(Packer &p, uint16_t v, IntStyle) { p.pack_uint16(v); }
void put(Packer &p, uint32_t v, IntStyle) { p.pack_uint32(v); }
void put(Packer &p, bool v, IntStyle) { v ? p.pack_true() : p.pack_false(); }
void put_raw(Packer &p, const void *data, size_t n) {
  p.pack_v4raw(static_cast<uint32_t>(n));
  p.pack_v4raw_body(static_cast<const char *>(data), static_cast<uint32_t>(n));
}
void put(Packer &p, const std::string &v, IntStyle) { put_raw(p, v.data(), v.size()); }
void put(Packer &p, const Bytes &v, IntStyle) { put_raw(p, v.data(), v.size()); }
void put(Packer &p, const OptBytes &v, IntStyle s) {
  if (!v) {
    p.pack_nil();
  } else {
    put(p, *v, s);
  }
}
// A Go `int`.
void put(Packer &p, int64_t v, IntStyle style) {
  if (style == IntStyle::Legacy || v < 0 || v <= 127) {
    p.pack_int64(v);  // smallest form: unsigned families for v >= 0, signed for v < 0
  } else if (v <= std::numeric_limits<int16_t>::max()) {
    p.pack_fix_int16(static_cast<int16_t>(v));
  } else if (v <= std::numeric_limits<int32_t>::max()) {
    p.pack_fix_int32(static_cast<int32_t>(v));
  } else {
    p.pack_fix_int64(v);
  }
}

template <class M> bool is_empty(const M &v) {
  if constexpr (std::is_same_v<M, std::string> || std::is_same_v<M, Bytes>) {
    return v.empty();
  } else {
    return v == M{};
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

using Obj = msgpack::object;
namespace T = msgpack::type;

Error type_error(std::string_view what, const Obj &o) {
  return make_error(Errc::Malformed, std::string("expected ") + std::string(what) + ", got msgpack type " +
                                         std::to_string(static_cast<int>(o.type)));
}

template <class U>
Status get_unsigned(const Obj &o, U &out) {
  switch (o.type) {
    case T::NIL: out = 0; return Ok{};
    case T::POSITIVE_INTEGER:
      if (o.via.u64 > std::numeric_limits<U>::max()) {
        return make_error(Errc::OutOfRange, "value " + std::to_string(o.via.u64) + " overflows the field");
      }
      out = static_cast<U>(o.via.u64);
      return Ok{};
    case T::NEGATIVE_INTEGER:
      return make_error(Errc::OutOfRange, "negative value for an unsigned field");
    default: return type_error("an integer", o);
  }
}

Status get(const Obj &o, uint8_t &v) { return get_unsigned(o, v); }
Status get(const Obj &o, uint16_t &v) { return get_unsigned(o, v); }
Status get(const Obj &o, uint32_t &v) { return get_unsigned(o, v); }
Status get(const Obj &o, int64_t &v) {
  switch (o.type) {
    case T::NIL: v = 0; return Ok{};
    case T::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return make_error(Errc::OutOfRange, "value overflows a Go int");
      }
      v = static_cast<int64_t>(o.via.u64);
      return Ok{};
    case T::NEGATIVE_INTEGER: v = o.via.i64; return Ok{};
    default: return type_error("an integer", o);
  }
}
Status get(const Obj &o, bool &v) {
  switch (o.type) {
    case T::NIL: v = false; return Ok{};
    case T::BOOLEAN: v = o.via.boolean; return Ok{};
    case T::POSITIVE_INTEGER:  // Go's decoders take fixint 0/1 for a bool
      if (o.via.u64 <= 1) {
        v = o.via.u64 == 1;
        return Ok{};
      }
      return make_error(Errc::OutOfRange, "integer other than 0/1 for a bool");
    default: return type_error("a bool", o);
  }
}
Status get(const Obj &o, std::string &v) {
  switch (o.type) {
    case T::NIL: v.clear(); return Ok{};
    case T::STR: v.assign(o.via.str.ptr, o.via.str.size); return Ok{};
    case T::BIN: v.assign(o.via.bin.ptr, o.via.bin.size); return Ok{};
    default: return type_error("a string", o);
  }
}
// nil -> is_nil; raw string, bin, or an array of small ints -> bytes.
Status get_bytes(const Obj &o, Bytes &v, bool &is_nil) {
  is_nil = false;
  switch (o.type) {
    case T::NIL: v.clear(); is_nil = true; return Ok{};
    case T::STR: v.assign(o.via.str.ptr, o.via.str.ptr + o.via.str.size); return Ok{};
    case T::BIN: v.assign(o.via.bin.ptr, o.via.bin.ptr + o.via.bin.size); return Ok{};
    case T::ARRAY:
      v.clear();
      v.reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        uint8_t b = 0;
        if (auto st = get_unsigned(o.via.array.ptr[i], b); !st) return st;
        v.push_back(b);
      }
      return Ok{};
    default: return type_error("bytes", o);
  }
}
Status get(const Obj &o, Bytes &v) {
  bool is_nil = false;
  return get_bytes(o, v, is_nil);
}
Status get(const Obj &o, OptBytes &v) {
  Bytes b;
  bool is_nil = false;
  if (auto st = get_bytes(o, b, is_nil); !st) return st;
  if (is_nil) {
    v.reset();
  } else {
    v = std::move(b);
  }
  return Ok{};
}

template <class S, class M>
Status get_field(const Obj &o, S &v, const Field<S, M> &f) {
  auto st = get(o, v.*(f.member));
  if (!st) return make_error(st.error().code, std::string(f.name) + ": " + st.error().message);
  return st;
}

size_t opt_size(const OptBytes &b) { return b ? b->size() : 0; }

template <class S> Status check_bounds(const S &, const Limits &) { return Ok{}; }
template <> Status check_bounds(const Alive &a, const Limits &l) {
  if (opt_size(a.meta) > l.max_meta) return make_error(Errc::LimitExceeded, "alive: Meta over max_meta");
  return Ok{};
}
template <> Status check_bounds(const PushNodeState &n, const Limits &l) {
  if (opt_size(n.meta) > l.max_meta) {
    return make_error(Errc::LimitExceeded, "pushNodeState: Meta over max_meta");
  }
  return Ok{};
}

template <class S>
Status from_object(const Obj &o, S &v, const Limits &limits) {
  v = S{};
  const auto &fields = Schema<S>::fields;
  Status st = Ok{};
  if (o.type == T::MAP) {
    for (uint32_t i = 0; i < o.via.map.size && st; ++i) {
      const auto &kv = o.via.map.ptr[i];
      std::string_view key;
      if (kv.key.type == T::STR) {
        key = {kv.key.via.str.ptr, kv.key.via.str.size};
      } else if (kv.key.type == T::BIN) {
        key = {kv.key.via.bin.ptr, kv.key.via.bin.size};
      } else {
        continue;  // not a field name: skipped like any unknown key
      }
      for_each_field(fields, [&](const auto &f) {
        if (st && f.name == key) st = get_field(kv.val, v, f);
      });
    }
  } else if (o.type == T::ARRAY) {  // positional, Go declaration order; extra elements ignored
    for (uint32_t i = 0; i < o.via.array.size && st; ++i) {
      for_each_field(fields, [&](const auto &f) {
        if (st && f.decl == static_cast<int>(i)) st = get_field(o.via.array.ptr[i], v, f);
      });
    }
  } else if (o.type != T::NIL) {
    return type_error(std::string("a map for ") + std::string(Schema<S>::name), o);
  }
  if (!st) return make_error(st.error().code, std::string(Schema<S>::name) + "." + st.error().message);
  return check_bounds(v, limits);
}

// Every count and length the parser may allocate for is bounded by what is actually there: an
// array of n elements needs at least n bytes, so n > remaining means the input is truncated.
Status unpack_one(msgpack::zone &z, ByteView data, size_t *offset, const Limits &limits, Obj &out) {
  if (*offset > data.size()) return make_error(Errc::Truncated, "offset past end of input");
  const size_t remaining = data.size() - *offset;
  if (remaining == 0) return make_error(Errc::Truncated, "no msgpack object");
  msgpack::unpack_limit lim(remaining, remaining / 2, remaining, remaining, remaining,
                            limits.max_msgpack_depth);
  auto reference = [](T::object_type, size_t, void *) { return true; };  // zero-copy strings
  try {
    out = msgpack::unpack(z, reinterpret_cast<const char *>(data.data()), data.size(), *offset,
                          reference, nullptr, lim);
    return Ok{};
  } catch (const msgpack::depth_size_overflow &) {
    return make_error(Errc::LimitExceeded, "msgpack nesting deeper than max_msgpack_depth");
  } catch (const msgpack::size_overflow &) {
    return make_error(Errc::Truncated, "msgpack container or string longer than the input");
  } catch (const msgpack::insufficient_bytes &) {
    return make_error(Errc::Truncated, "msgpack object truncated");
  } catch (const std::bad_alloc &) {
    return make_error(Errc::LimitExceeded, "out of memory decoding msgpack");
  } catch (const std::exception &e) {
    return make_error(Errc::Malformed, std::string("invalid msgpack: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Dump

void dump_string(std::string &out, std::string_view s) {
  bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7e && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += "x\"";
    out += to_hex(view(s));
    out += '"';
  }
}
void dump_value(std::string &out, const std::string &v) { dump_string(out, v); }
void dump_value(std::string &out, const Bytes &v) { out += "0x" + to_hex(v); }
void dump_value(std::string &out, const OptBytes &v) { out += "0x" + (v ? to_hex(*v) : std::string()); }
void dump_value(std::string &out, bool v) { out += v ? "true" : "false"; }
template <class I>
  requires std::is_integral_v<I>
void dump_value(std::string &out, I v) {
  out += std::to_string(static_cast<std::conditional_t<std::is_signed_v<I>, int64_t, uint64_t>>(v));
}

}  // namespace

// -------------------------------------------------------------------------------------------------
// Public API

template <class S>
void encode_body(Bytes &out, const S &v, IntStyle style) {
  Sink sink{&out};
  Packer p(sink);
  uint32_t n = 0;
  for_each_field(Schema<S>::fields, [&](const auto &f) { n += !(f.omitempty && is_empty(v.*(f.member))); });
  p.pack_map(n);
  for_each_field(Schema<S>::fields, [&](const auto &f) {
    if (f.omitempty && is_empty(v.*(f.member))) return;
    put_raw(p, f.name.data(), f.name.size());
    put(p, v.*(f.member), style);
  });
}

template <class S>
Status decode_body(ByteView data, size_t *offset, S &v, const Limits &limits) {
  msgpack::zone z(1024);
  Obj o;
  if (auto st = unpack_one(z, data, offset, limits, o); !st) {
    return make_error(st.error().code, std::string(Schema<S>::name) + ": " + st.error().message);
  }
  return from_object(o, v, limits);
}

template <class S>
Bytes encode(const S &v, IntStyle style) {
  Bytes out;
  out.reserve(64);
  out.push_back(static_cast<uint8_t>(Schema<S>::type));
  encode_body(out, v, style);
  return out;
}

void append_message(Bytes &out, const Message &m, IntStyle style) {
  std::visit(
      [&](const auto &msg) {
        using M = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<M, UserMsg>) {
          out.push_back(static_cast<uint8_t>(MsgType::User));
          out.insert(out.end(), msg.msg.begin(), msg.msg.end());
        } else {
          out.push_back(static_cast<uint8_t>(Schema<M>::type));
          encode_body(out, msg, style);
        }
      },
      m);
}

Bytes encode_message(const Message &m, IntStyle style) {
  Bytes out;
  append_message(out, m, style);
  return out;
}

namespace {
template <class S>
Result<Message> decode_as(ByteView body, const Limits &limits) {
  S v;
  size_t off = 0;
  if (auto st = decode_body(body, &off, v, limits); !st) return st.error();
  return Message{std::move(v)};
}
}  // namespace

Result<Message> decode_message(ByteView msg, const Limits &limits) {
  if (msg.empty()) return make_error(Errc::Truncated, "empty message");
  ByteView body = msg.subspan(1);
  switch (static_cast<MsgType>(msg[0])) {
    case MsgType::Ping: return decode_as<Ping>(body, limits);
    case MsgType::IndirectPing: return decode_as<IndirectPingReq>(body, limits);
    case MsgType::AckResp: return decode_as<AckResp>(body, limits);
    case MsgType::Suspect: return decode_as<Suspect>(body, limits);
    case MsgType::Alive: return decode_as<Alive>(body, limits);
    case MsgType::Dead: return decode_as<Dead>(body, limits);
    case MsgType::NackResp: return decode_as<NackResp>(body, limits);
    case MsgType::Err: return decode_as<ErrResp>(body, limits);
    case MsgType::User: return Message{UserMsg{Bytes(body.begin(), body.end())}};
    default:
      return make_error(Errc::BadType, std::string("unexpected message type ") + msg_type_name(msg[0]));
  }
}

template <class S>
std::string dump_struct(const S &v) {
  std::string out(Schema<S>::name);
  out += '{';
  bool first = true;
  for_each_field(Schema<S>::fields, [&](const auto &f) {
    if (!first) out += ' ';
    first = false;
    out += f.name;
    out += '=';
    dump_value(out, v.*(f.member));
  });
  out += '}';
  return out;
}

namespace {
std::string dump_user(const UserMsg &u) { return "user{Msg=0x" + to_hex(u.msg) + "}"; }
}  // namespace

std::string dump(const Message &m) {
  return std::visit(
      [](const auto &msg) -> std::string {
        using M = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<M, UserMsg>) {
          return dump_user(msg);
        } else {
          return dump_struct(msg);
        }
      },
      m);
}

std::string dump(const StreamMessage &m) {
  return std::visit(
      [](const auto &msg) -> std::string {
        using M = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<M, UserMsg>) {
          return dump_user(msg);
        } else if constexpr (std::is_same_v<M, PushPull>) {
          PushPullHeader h{static_cast<int64_t>(msg.nodes.size()),
                           static_cast<int64_t>(msg.user_state.size()), msg.join};
          std::string out = dump_struct(h);
          for (const auto &n : msg.nodes) out += " ; " + dump_struct(n);
          out += " ; userState=0x" + to_hex(msg.user_state);
          return out;
        } else {
          return dump_struct(msg);
        }
      },
      m);
}

// Explicit instantiations for every wire struct.
#define ML_WIRE_INSTANTIATE(S)                                                           \
  template void encode_body<S>(Bytes &, const S &, IntStyle);                            \
  template Status decode_body<S>(ByteView, size_t *, S &, const Limits &);              \
  template Bytes encode<S>(const S &, IntStyle);                                         \
  template std::string dump_struct<S>(const S &);
ML_WIRE_INSTANTIATE(Ping)
ML_WIRE_INSTANTIATE(IndirectPingReq)
ML_WIRE_INSTANTIATE(AckResp)
ML_WIRE_INSTANTIATE(NackResp)
ML_WIRE_INSTANTIATE(ErrResp)
ML_WIRE_INSTANTIATE(Suspect)
ML_WIRE_INSTANTIATE(Dead)
ML_WIRE_INSTANTIATE(Alive)
ML_WIRE_INSTANTIATE(PushPullHeader)
ML_WIRE_INSTANTIATE(PushNodeState)
ML_WIRE_INSTANTIATE(UserMsgHeader)
ML_WIRE_INSTANTIATE(Compress)
#undef ML_WIRE_INSTANTIATE

}  // namespace memberlist::wire
