// msgpack codec for memberlist's structs. One schema per struct (Go field name, member, Go
// declaration index, omitempty) drives encoding, decoding and the canonical dump.
#include "wire/codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
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

// Writes into space the caller has already sized (encode_body makes room for an upper bound
// of the struct's encoding first, then trims).
struct Sink {
  uint8_t *p;
  void write(const char *data, size_t n) {
    if (n == 0) return;  // data may be null then (an empty vector's)
    std::memcpy(p, data, n);
    p += n;
  }
};

// Upper bounds of a value's encoded size (header + payload).
size_t bound(const std::string &v) { return 5 + v.size(); }
size_t bound(const Bytes &v) { return 5 + v.size(); }
size_t bound(const OptBytes &v) { return v ? 5 + v->size() : 1; }
size_t bound(const OptSmallBytes &v) { return v ? 5 + v->size() : 1; }
size_t bound(bool) { return 1; }
template <class I>
  requires std::is_integral_v<I>
size_t bound(I) {
  return 9;
}
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
void put(Packer &p, const OptSmallBytes &v, IntStyle) {
  if (!v) {
    p.pack_nil();
  } else {
    put_raw(p, v->data(), v->size());
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
// Decoding: msgpack-c's visitor parser (msgpack::parse with a visitor) walks the bytes once and
// the visitor writes each value straight into its field. No object tree, no zone; strings are
// read in place. The parser allocates nothing for counts read from the input (it only keeps one
// stack entry per nesting level, and the visitor stops it past max_msgpack_depth), so a header
// that claims 4 billion elements costs nothing and ends as "truncated".

namespace T = msgpack::type;

Error type_error(std::string_view what, T::object_type got) {
  return make_error(Errc::Malformed, std::string("expected ") + std::string(what) + ", got msgpack type " +
                                         std::to_string(static_cast<int>(got)));
}

// What each field type is called in a type error.
template <class M> constexpr std::string_view kind_name() {
  if constexpr (std::is_same_v<M, bool>) {
    return "a bool";
  } else if constexpr (std::is_integral_v<M>) {
    return "an integer";
  } else if constexpr (std::is_same_v<M, std::string>) {
    return "a string";
  } else {
    return "bytes";
  }
}
template <class M>
constexpr bool is_bytes = std::is_same_v<M, Bytes> || std::is_same_v<M, OptBytes> || std::is_same_v<M, OptSmallBytes>;

// One scalar into one field, with Go's decoders' conversions (WIRE.md §3.3). A value that does
// not fit leaves the field as it is and is reported through bad(Error); only that failure path
// builds an error value, so a field that decodes costs no Status.
template <class M, class Bad> void set_nil(M &v, Bad &&) {
  if constexpr (std::is_same_v<M, OptBytes> || std::is_same_v<M, OptSmallBytes>) {
    v.reset();
  } else {
    v = M{};
  }
}
template <class M, class Bad> void set_bool(M &v, bool b, Bad &&bad) {
  if constexpr (std::is_same_v<M, bool>) {
    v = b;
  } else {
    bad(type_error(kind_name<M>(), T::BOOLEAN));
  }
}
template <class M, class Bad> void set_uint(M &v, uint64_t u, Bad &&bad) {
  if constexpr (std::is_same_v<M, bool>) {  // Go's decoders take fixint 0/1 for a bool
    if (u > 1) return bad(make_error(Errc::OutOfRange, "integer other than 0/1 for a bool"));
    v = u == 1;
  } else if constexpr (std::is_same_v<M, int64_t>) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad(make_error(Errc::OutOfRange, "value overflows a Go int"));
    }
    v = static_cast<int64_t>(u);
  } else if constexpr (std::is_integral_v<M>) {
    if (u > std::numeric_limits<M>::max()) {
      return bad(make_error(Errc::OutOfRange, "value " + std::to_string(u) + " overflows the field"));
    }
    v = static_cast<M>(u);
  } else {
    bad(type_error(kind_name<M>(), T::POSITIVE_INTEGER));
  }
}
template <class M, class Bad> void set_negative(M &v, int64_t i, Bad &&bad) {
  if constexpr (std::is_same_v<M, int64_t>) {
    v = i;
  } else if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool>) {
    bad(make_error(Errc::OutOfRange, "negative value for an unsigned field"));
  } else {
    bad(type_error(kind_name<M>(), T::NEGATIVE_INTEGER));
  }
}
template <class M, class Bad> void set_raw(M &v, const char *p, uint32_t n, T::object_type type, Bad &&bad) {
  if constexpr (std::is_same_v<M, std::string>) {
    v.assign(p, n);
  } else if constexpr (std::is_same_v<M, Bytes>) {
    v.assign(reinterpret_cast<const uint8_t *>(p), reinterpret_cast<const uint8_t *>(p) + n);
  } else if constexpr (std::is_same_v<M, OptBytes> || std::is_same_v<M, OptSmallBytes>) {
    v.emplace(reinterpret_cast<const uint8_t *>(p), reinterpret_cast<const uint8_t *>(p) + n);
  } else {
    bad(type_error(kind_name<M>(), type));
  }
}
// A value of a type no field takes (float, ext), or a container where a scalar belongs.
template <class M, class Bad> void set_other(M &, T::object_type type, Bad &&bad) {
  bad(type_error(kind_name<M>(), type));
}

// The byte in a bytes field given as an array of small integers.
template <class Bad> void byte_from_uint(uint64_t u, uint8_t &b, Bad &&bad) {
  if (u > 0xff) return bad(make_error(Errc::OutOfRange, "value " + std::to_string(u) + " overflows the field"));
  b = static_cast<uint8_t>(u);
}

template <class S> constexpr size_t kFieldCount = std::tuple_size_v<std::decay_t<decltype(Schema<S>::fields)>>;

// Calls f(field) for the field at runtime index idx of Schema<S>::fields.
template <class S, class F, size_t... I>
void with_field(size_t idx, F &&f, std::index_sequence<I...>) {
  (void)(((I == idx) && (f(std::get<I>(Schema<S>::fields)), true)) || ...);
}
template <class S, class F>
void with_field(int idx, F &&f) {
  with_field<S>(static_cast<size_t>(idx), f, std::make_index_sequence<kFieldCount<S>>{});
}

// Whether the map key p[0..n) is the field's name. The name's length is a constant here, so the
// compiler compares it inline.
template <class F>
bool is_key(const F &f, const char *p, uint32_t n) {
  return n == f.name.size() && std::memcmp(p, f.name.data(), f.name.size()) == 0;
}

// Index in Schema<S>::fields of the map key p[0..n), or -1. Go writes keys in the schema's
// (sorted) order, so the field after the previous match is tried first.
template <class S>
int field_by_name(const char *p, uint32_t n, int hint) {
  bool hit = false;
  with_field<S>(hint, [&](const auto &f) { hit = is_key(f, p, n); });
  if (hit) return hint;
  int found = -1, i = 0;
  for_each_field(Schema<S>::fields, [&](const auto &f) {
    if (found < 0 && is_key(f, p, n)) found = i;
    ++i;
  });
  return found;
}
// Index of the field at position pos of an array-encoded struct (Go declaration order).
template <class S>
int field_by_decl(uint64_t pos) {
  int found = -1, i = 0;
  for_each_field(Schema<S>::fields, [&](const auto &f) {
    if (static_cast<uint64_t>(f.decl) == pos) found = i;
    ++i;
  });
  return found;
}

// The visitor for one struct. Depth counts open containers: the struct's own map (or array)
// is depth 1, so its field values are visited at depth 1 and the elements of a bytes field
// sent as an array at depth 2. Everything else (unknown keys' values, containers nested in
// keys) is walked and ignored. A value that does not fit its field is remembered (the first
// one) and parsing goes on, so that a syntax, size or depth error anywhere in the object
// takes precedence, as when the object was parsed whole before conversion.
template <class S>
class StructVisitor {
 public:
  StructVisitor(S &out, size_t max_depth) : v_(out), max_depth_(max_depth) {}

  bool visit_nil() {
    if (depth_ == 0) return true;  // a nil struct: all zero
    return scalar([&](auto &m, auto &&bad) { set_nil(m, bad); }, [&](uint8_t &b, auto &&) { b = 0; });
  }
  bool visit_boolean(bool b) {
    if (depth_ == 0) return top_scalar(T::BOOLEAN);
    return scalar([&](auto &m, auto &&bad) { set_bool(m, b, bad); },
                  [](uint8_t &, auto &&bad) { bad(type_error("an integer", T::BOOLEAN)); });
  }
  bool visit_positive_integer(uint64_t u) {
    if (depth_ == 0) return top_scalar(T::POSITIVE_INTEGER);
    return scalar([&](auto &m, auto &&bad) { set_uint(m, u, bad); },
                  [&](uint8_t &b, auto &&bad) { byte_from_uint(u, b, bad); });
  }
  // msgpack-c reports every signed family (int8..int64) here, whatever the sign.
  bool visit_negative_integer(int64_t i) {
    if (i >= 0) return visit_positive_integer(static_cast<uint64_t>(i));
    if (depth_ == 0) return top_scalar(T::NEGATIVE_INTEGER);
    return scalar([&](auto &m, auto &&bad) { set_negative(m, i, bad); },
                  [](uint8_t &, auto &&bad) {
                    bad(make_error(Errc::OutOfRange, "negative value for an unsigned field"));
                  });
  }
  bool visit_float32(float) { return other(T::FLOAT32); }
  bool visit_float64(double) { return other(T::FLOAT64); }
  bool visit_ext(const char *, uint32_t) { return other(T::EXT); }
  bool visit_str(const char *p, uint32_t n) { return raw(p, n, T::STR); }
  bool visit_bin(const char *p, uint32_t n) { return raw(p, n, T::BIN); }

  bool start_array(uint32_t n) {
    if (!enter()) return false;
    if (depth_ == 2 && in_value_ && field_ >= 0 && !err_) {
      with_field<S>(field_, [&](const auto &f) {
        using M = std::decay_t<decltype(v_.*(f.member))>;
        if constexpr (is_bytes<M>) {
          auto &b = bytes_of(v_.*(f.member));
          b.clear();
          b.reserve(std::min<size_t>(n, 64));
          bytes_array_ = true;
        } else {
          set_other(v_.*(f.member), T::ARRAY, [&](Error e) { fail(f, std::move(e)); });
        }
      });
    } else if (depth_ == 3 && bytes_array_ && !err_) {
      fail_byte(type_error("an integer", T::ARRAY));
    }
    return true;
  }
  bool start_array_item() {
    if (depth_ == 1) {
      in_value_ = true;
      field_ = field_by_decl<S>(item_++);
    }
    return true;
  }
  bool end_array_item() {
    if (depth_ == 1) in_value_ = false;
    return true;
  }
  bool end_array() {
    if (depth_ == 2) bytes_array_ = false;
    --depth_;
    return true;
  }

  bool start_map(uint32_t) {
    if (!enter()) return false;
    if (depth_ == 2 && in_value_ && field_ >= 0 && !err_) {
      with_field<S>(field_, [&](const auto &f) {
        set_other(v_.*(f.member), T::MAP, [&](Error e) { fail(f, std::move(e)); });
      });
    } else if (depth_ == 3 && bytes_array_ && !err_) {
      fail_byte(type_error("an integer", T::MAP));
    }
    return true;
  }
  bool start_map_key() {
    if (depth_ == 1) {
      in_key_ = true;
      field_ = -1;
    }
    return true;
  }
  bool end_map_key() {
    if (depth_ == 1) in_key_ = false;
    return true;
  }
  bool start_map_value() {
    if (depth_ == 1) in_value_ = true;
    return true;
  }
  bool end_map_value() {
    if (depth_ == 1) {
      in_value_ = false;
      if (field_ >= 0) hint_ = field_ + 1;
    }
    return true;
  }
  bool end_map() {
    --depth_;
    return true;
  }

  void parse_error(size_t, size_t) {}
  void insufficient_bytes(size_t, size_t) { truncated_ = true; }
  bool referenced() const { return false; }
  void set_referenced(bool) {}

  // Whether it stopped the parse, and after a complete parse the first value that did not fit.
  bool too_deep() const { return too_deep_; }
  bool truncated() const { return truncated_; }
  std::optional<Error> &conversion_error() { return err_; }

 private:

  bool enter() {
    if (depth_ + 1 > max_depth_) {
      too_deep_ = true;
      return false;
    }
    ++depth_;
    if (depth_ == 2 && in_key_) field_ = -1;  // a container as a map key names no field
    return true;
  }
  // The struct itself is a scalar other than nil.
  bool top_scalar(T::object_type type) {
    if (!err_) err_ = type_error("a map for " + std::string(Schema<S>::name), type);
    return true;
  }
  template <class F>
  void fail(const F &f, Error e) {
    if (!err_) {
      err_ = make_error(e.code, std::string(Schema<S>::name) + "." + std::string(f.name) + ": " + e.message);
    }
  }
  void fail_byte(Error e) {
    with_field<S>(field_, [&](const auto &f) { fail(f, std::move(e)); });
  }
  static Bytes &bytes_of(Bytes &b) { return b; }
  static Bytes &bytes_of(OptBytes &b) { return b.emplace(); }
  static SmallBytes &bytes_of(OptSmallBytes &b) { return b.emplace(); }

  // A scalar: a field's value at depth 1, or a byte of a bytes field sent as an array.
  template <class SetField, class SetByte>
  bool scalar(SetField &&set_field, SetByte &&set_byte) {
    if (err_) return true;
    if (depth_ == 1 && in_value_ && field_ >= 0) {
      with_field<S>(field_, [&](const auto &f) {
        set_field(v_.*(f.member), [&](Error e) { fail(f, std::move(e)); });
      });
    } else if (depth_ == 2 && bytes_array_) {
      uint8_t b = 0;
      bool fits = true;
      set_byte(b, [&](Error e) {
        fits = false;
        fail_byte(std::move(e));
      });
      if (fits) {
        with_field<S>(field_, [&](const auto &f) {
          using M = std::decay_t<decltype(v_.*(f.member))>;
          if constexpr (std::is_same_v<M, Bytes>) {
            (v_.*(f.member)).push_back(b);
          } else if constexpr (std::is_same_v<M, OptBytes> || std::is_same_v<M, OptSmallBytes>) {
            (v_.*(f.member))->push_back(b);
          }
        });
      }
    }
    return true;
  }
  bool raw(const char *p, uint32_t n, T::object_type type) {
    if (depth_ == 0) return top_scalar(type);
    if (depth_ == 1 && in_key_) {
      field_ = field_by_name<S>(p, n, hint_);
      return true;
    }
    return scalar([&](auto &m, auto &&bad) { set_raw(m, p, n, type, bad); },
                  [&](uint8_t &, auto &&bad) { bad(type_error("an integer", type)); });
  }
  bool other(T::object_type type) {
    if (depth_ == 0) return top_scalar(type);
    return scalar([&](auto &m, auto &&bad) { set_other(m, type, bad); },
                  [&](uint8_t &, auto &&bad) { bad(type_error("an integer", type)); });
  }

  S &v_;
  size_t max_depth_;
  size_t depth_ = 0;
  bool in_key_ = false;
  bool in_value_ = false;
  bool bytes_array_ = false;
  bool too_deep_ = false;
  bool truncated_ = false;
  int field_ = -1;
  int hint_ = 0;
  uint64_t item_ = 0;
  std::optional<Error> err_;
};

// Walks an object without looking at its values: only nesting is tracked, to stop where the
// decoder would (StructVisitor::enter).
class ScanVisitor {
 public:
  explicit ScanVisitor(size_t max_depth) : max_depth_(max_depth) {}
  bool visit_nil() { return true; }
  bool visit_boolean(bool) { return true; }
  bool visit_positive_integer(uint64_t) { return true; }
  bool visit_negative_integer(int64_t) { return true; }
  bool visit_float32(float) { return true; }
  bool visit_float64(double) { return true; }
  bool visit_str(const char *, uint32_t) { return true; }
  bool visit_bin(const char *, uint32_t) { return true; }
  bool visit_ext(const char *, uint32_t) { return true; }
  bool start_array(uint32_t) { return ++depth_ <= max_depth_; }
  bool start_array_item() { return true; }
  bool end_array_item() { return true; }
  bool end_array() { return --depth_, true; }
  bool start_map(uint32_t) { return ++depth_ <= max_depth_; }
  bool start_map_key() { return true; }
  bool end_map_key() { return true; }
  bool start_map_value() { return true; }
  bool end_map_value() { return true; }
  bool end_map() { return --depth_, true; }
  void parse_error(size_t, size_t) {}
  void insufficient_bytes(size_t, size_t) {}
  bool referenced() const { return false; }
  void set_referenced(bool) {}

 private:
  size_t max_depth_;
  size_t depth_ = 0;
};

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
void dump_value(std::string &out, const OptSmallBytes &v) {
  out += "0x" + (v ? to_hex(ByteView(v->data(), v->size())) : std::string());
}
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
  size_t max = 5;  // map header
  for_each_field(Schema<S>::fields, [&](const auto &f) { max += 5 + f.name.size() + bound(v.*(f.member)); });
  const size_t start = out.size();
  out.resize(start + max);
  Sink sink{out.data() + start};
  Packer p(sink);
  uint32_t n = 0;
  for_each_field(Schema<S>::fields, [&](const auto &f) { n += !(f.omitempty && is_empty(v.*(f.member))); });
  p.pack_map(n);
  for_each_field(Schema<S>::fields, [&](const auto &f) {
    if (f.omitempty && is_empty(v.*(f.member))) return;
    put_raw(p, f.name.data(), f.name.size());
    put(p, v.*(f.member), style);
  });
  out.resize(static_cast<size_t>(sink.p - out.data()));
}

template <class S>
Status decode_body(ByteView data, size_t *offset, S &v, const Limits &limits, Target target) {
  const auto fail = [](Errc c, std::string_view msg) {
    return make_error(c, std::string(Schema<S>::name) + ": " + std::string(msg));
  };
  if (*offset > data.size()) return fail(Errc::Truncated, "offset past end of input");
  if (*offset == data.size()) return fail(Errc::Truncated, "no msgpack object");
  if (target == Target::Reuse) v = S{};
  StructVisitor<S> vis(v, limits.max_msgpack_depth);
  size_t off = *offset;
  bool parsed = false;
  try {
    parsed = msgpack::parse(reinterpret_cast<const char *>(data.data()), data.size(), off, vis);
  } catch (const std::bad_alloc &) {
    return fail(Errc::LimitExceeded, "out of memory decoding msgpack");
  } catch (const std::exception &e) {
    return fail(Errc::Malformed, std::string("invalid msgpack: ") + e.what());
  }
  if (!parsed) {
    if (vis.too_deep()) return fail(Errc::LimitExceeded, "msgpack nesting deeper than max_msgpack_depth");
    if (vis.truncated()) return fail(Errc::Truncated, "msgpack object truncated");
    return fail(Errc::Malformed, "invalid msgpack: a type byte no encoder writes");
  }
  if (auto &e = vis.conversion_error()) return std::move(*e);
  if (auto st = check_bounds(v, limits); !st) return st;
  *offset = off;
  return Ok{};
}

// msgpack-c's parser state (where it stopped, its container stack) kept between calls.
struct ObjectScanner::Parser : msgpack::v3::detail::context<ObjectScanner::Parser> {
  explicit Parser(size_t max_depth) : vis(max_depth) {}
  ScanVisitor &visitor() { return vis; }
  ScanVisitor vis;
};

ObjectScanner::ObjectScanner(size_t start, size_t max_depth)
    : parser_(std::make_unique<Parser>(max_depth)), start_(start), pos_(start) {}
ObjectScanner::~ObjectScanner() = default;

bool ObjectScanner::ready(ByteView data) {
  if (done_) return true;
  if (data.size() <= pos_) return false;
  size_t off = pos_;
  msgpack::parse_return ret = msgpack::PARSE_CONTINUE;
  try {
    ret = parser_->execute(reinterpret_cast<const char *>(data.data()), data.size(), off);
  } catch (const std::exception &) {
    ret = msgpack::PARSE_PARSE_ERROR;  // a size the parser refuses; the decode reports it
  }
  pos_ = off;
  done_ = ret != msgpack::PARSE_CONTINUE;
  return done_;
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
  template Status decode_body<S>(ByteView, size_t *, S &, const Limits &, Target);              \
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
