#include "wire/stream.hpp"

#include "wire/codec.hpp"
#include "wire/framing.hpp"

namespace memberlist::wire {

Bytes encode_push_pull(const PushPull &pp, IntStyle style) {
  Bytes out;
  size_t guess = 16 + pp.user_state.size();
  for (const auto &n : pp.nodes) guess += 96 + n.name.size() + (n.meta ? n.meta->size() : 0);
  out.reserve(guess);
  out.push_back(static_cast<uint8_t>(MsgType::PushPull));
  PushPullHeader h{static_cast<int64_t>(pp.nodes.size()), static_cast<int64_t>(pp.user_state.size()), pp.join};
  encode_body(out, h, style);
  for (const auto &n : pp.nodes) encode_body(out, n, style);
  out.insert(out.end(), pp.user_state.begin(), pp.user_state.end());
  return out;
}

Bytes encode_user_stream(ByteView msg, IntStyle style) {
  Bytes out;
  out.reserve(16 + msg.size());
  out.push_back(static_cast<uint8_t>(MsgType::User));
  encode_body(out, UserMsgHeader{static_cast<int64_t>(msg.size())}, style);
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

Bytes encode_stream_message(const StreamMessage &m, IntStyle style) {
  return std::visit(
      [&](const auto &msg) -> Bytes {
        using M = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<M, PushPull>) {
          return encode_push_pull(msg, style);
        } else if constexpr (std::is_same_v<M, UserMsg>) {
          return encode_user_stream(msg.msg, style);
        } else {
          return encode(msg, style);
        }
      },
      m);
}

Result<Bytes> encode_stream(ByteView message, const StreamOut &opts) {
  if (message.empty()) return make_error(Errc::Truncated, "empty stream message");
  Bytes buf;
  ByteView cur = message;
  if (opts.compress) {
    buf = compress_payload(message, opts.compression);
    cur = buf;
  }
  if (opts.keyring && !opts.keyring->empty()) {
    // 0a | u32be length | encrypted; the AAD is those 5 bytes followed by the label.
    const size_t len = encrypted_length(opts.encryption_version, cur.size());
    if (len > 0xffffffffu) return make_error(Errc::OutOfRange, "stream message too large to encrypt");
    Bytes aad{static_cast<uint8_t>(MsgType::Encrypt), static_cast<uint8_t>(len >> 24),
              static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
    Bytes header = aad;
    aad.insert(aad.end(), opts.label.begin(), opts.label.end());
    auto enc = encrypt_payload(opts.encryption_version, *opts.keyring->primary(),
                               opts.nonce ? *opts.nonce : random_nonce(), cur, aad);
    if (!enc) return enc.error();
    header.insert(header.end(), enc->begin(), enc->end());
    buf = std::move(header);
    cur = buf;
  }
  if (opts.write_label_header && !opts.label.empty()) return add_label_header(opts.label, cur);
  if (buf.empty()) return Bytes(cur.begin(), cur.end());
  return buf;
}

// -------------------------------------------------------------------------------------------------

namespace {
// Node states of one push/pull may hold at most this many bytes decoded per byte they take in
// the stream (plus kDecodedSlack). memberlist's encoder writes every field of a node state with
// its key, at least ~60 bytes, which we hold in about sizeof(PushNodeState) + name + meta +
// addresses (~2x); a one-byte empty map is ~150x and is what an amplification attack sends
// (1 MiB of them decoded to ~400 MB before this bound).
constexpr size_t kDecodedPerWireByte = 8;
constexpr size_t kDecodedSlack = 4096;

size_t held_by(const PushNodeState &n) {
  size_t b = sizeof(PushNodeState) + n.name.size();
  if (n.meta) b += n.meta->size();
  if (n.addr && n.addr->size() > SmallBytes::kInline) b += n.addr->size();
  if (n.vsn && n.vsn->size() > SmallBytes::kInline) b += n.vsn->size();
  return b;
}
}  // namespace

StreamDecoder::StreamDecoder(StreamIn opts) : opts_(std::move(opts)) {
  if (!opts_.read_label_header) phase_ = Phase::Type;
}

StreamDecoder::~StreamDecoder() { release(); }

bool StreamDecoder::charge(size_t n) {
  if (!opts_.memory) return true;
  if (opts_.memory->used + n > opts_.limits.max_stream_memory) return false;
  opts_.memory->used += n;
  charged_ += n;
  return true;
}

void StreamDecoder::release() {
  if (!opts_.memory) return;
  opts_.memory->used -= charged_;
  charged_ = 0;
}

Error StreamDecoder::over_memory(const char *what) {
  memory_refused_ = true;
  return make_error(Errc::LimitExceeded, "streams being read already hold " + std::to_string(opts_.memory->used) +
                                             " bytes (max_stream_memory " +
                                             std::to_string(opts_.limits.max_stream_memory) + "); " + what);
}

StreamMessage StreamDecoder::take() {
  StreamMessage m = std::move(message_);
  buf_.clear();
  buf_.shrink_to_fit();
  release();
  return m;
}

StreamDecoder::State StreamDecoder::fail(Error e) {
  error_ = std::move(e);
  state_ = State::Failed;
  buf_.clear();
  buf_.shrink_to_fit();
  message_ = StreamMessage{};
  release();
  return state_;
}

StreamDecoder::State StreamDecoder::feed(ByteView chunk) {
  if (state_ != State::NeedMore) return state_;
  // Take what fits under the cap first: a message that ends within it is decoded whatever
  // follows it, however the bytes were split into chunks.
  const size_t cap = opts_.limits.max_stream_bytes + 5;
  const size_t room = cap - std::min(cap, buf_.size());
  const size_t take = std::min(chunk.size(), room);
  if (!charge(take)) return fail(over_memory("stream refused"));
  buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
  step(buf_);
  if (take < chunk.size() && state_ == State::NeedMore) {
    return fail(make_error(Errc::LimitExceeded, "stream message over max_stream_bytes"));
  }
  return state_;
}

template <class S>
Result<bool> StreamDecoder::decode_at(ByteView data, size_t *off, S &v, bool complete, Target target) {
  const bool scanning = scan_ && scan_->start() == *off;
  if (scanning && !complete) {
    const size_t before = scan_->scanned();
    const bool ready = scan_->ready(data);
    parsed_ += scan_->scanned() - before;
    if (!ready) return false;
  }
  size_t o = *off;
  auto st = decode_body(data, &o, v, opts_.limits, target);
  if (!st) {
    parsed_ += data.size() - *off;
    if (st.error().code != Errc::Truncated || complete) return st.error();
    if (!scanning) {  // from here on, only the new bytes are parsed until the object is whole
      scan_.emplace(*off, opts_.limits.max_msgpack_depth);
      scan_->ready(data);
      parsed_ += scan_->scanned();
    }
    return false;
  }
  parsed_ += o - *off;
  if (scanning) scan_.reset();
  *off = o;
  return true;
}

namespace {
Error stream_truncated() { return make_error(Errc::Truncated, "stream message truncated"); }
}  // namespace

Result<bool> StreamDecoder::parse_body(ByteView data, bool complete) {
  const Limits &lim = opts_.limits;
  enum : int { kStart = 0, kPPHeader, kPPNodes, kPPUser, kUserHeader, kUserBody, kSingle };
  for (;;) {
    switch (body_stage_) {
      case kStart: {
        if (data.empty()) return complete ? Result<bool>(stream_truncated()) : Result<bool>(false);
        body_off_ = 1;
        type_ = data[0];
        switch (static_cast<MsgType>(data[0])) {
          case MsgType::PushPull: body_stage_ = kPPHeader; break;
          case MsgType::User: body_stage_ = kUserHeader; break;
          case MsgType::Ping:
          case MsgType::AckResp:
          case MsgType::Err: body_stage_ = kSingle; break;
          default:
            return make_error(Errc::BadType, std::string("unexpected stream message type ") + msg_type_name(data[0]));
        }
        break;
      }
      case kPPHeader: {
        auto h = decode_at(data, &body_off_, header_, complete);
        if (!h) return h.error();
        if (!*h) return false;
        if (header_.nodes < 0 || static_cast<uint64_t>(header_.nodes) > lim.max_push_pull_nodes) {
          return make_error(Errc::LimitExceeded, "push/pull node count " + std::to_string(header_.nodes) +
                                                     " outside 0.." + std::to_string(lim.max_push_pull_nodes));
        }
        if (header_.user_state_len < 0 || static_cast<uint64_t>(header_.user_state_len) > lim.max_user_state) {
          return make_error(Errc::LimitExceeded, "push/pull user state length " +
                                                     std::to_string(header_.user_state_len) + " outside 0.." +
                                                     std::to_string(lim.max_user_state));
        }
        message_ = PushPull{header_.join, {}, {}};
        nodes_start_ = body_off_;
        nodes_decoded_ = 0;
        body_stage_ = kPPNodes;
        break;
      }
      case kPPNodes: {
        auto &pp = std::get<PushPull>(message_);
        // Reserved for what the bytes at hand can be as real node states (each takes ~60 bytes
        // or more); the vector grows past that if they are smaller.
        if (pp.nodes.empty()) {
          pp.nodes.reserve(std::min(static_cast<size_t>(header_.nodes), (data.size() - body_off_) / 64));
        }
        while (pp.nodes.size() < static_cast<size_t>(header_.nodes)) {
          // Decoded in place; a node that is not complete yet is dropped, and decoded again
          // once decode_at's scan has seen its end.
          auto st = decode_at(data, &body_off_, pp.nodes.emplace_back(), complete, Target::Fresh);
          if (!st || !*st) pp.nodes.pop_back();
          if (!st) return st.error();
          if (!*st) return false;
          const size_t held = held_by(pp.nodes.back());
          nodes_decoded_ += held;
          const size_t wire = body_off_ - nodes_start_;
          if (nodes_decoded_ > kDecodedPerWireByte * wire + kDecodedSlack) {
            memory_refused_ = true;
            return make_error(Errc::LimitExceeded,
                              "push/pull node states decode to " + std::to_string(nodes_decoded_) + " bytes from " +
                                  std::to_string(wire) + " on the wire (" + std::to_string(pp.nodes.size()) +
                                  " of " + std::to_string(header_.nodes) + " states); refused");
          }
          if (!charge(held)) return over_memory("push/pull refused");
        }
        body_stage_ = kPPUser;
        break;
      }
      case kPPUser: {
        const auto need = static_cast<size_t>(header_.user_state_len);
        if (data.size() - body_off_ < need) return complete ? Result<bool>(stream_truncated()) : Result<bool>(false);
        auto &pp = std::get<PushPull>(message_);
        if (!charge(need)) return over_memory("push/pull user state refused");
        pp.user_state.assign(data.begin() + static_cast<std::ptrdiff_t>(body_off_),
                             data.begin() + static_cast<std::ptrdiff_t>(body_off_ + need));
        body_off_ += need;
        return true;
      }
      case kUserHeader: {
        UserMsgHeader h;
        auto got = decode_at(data, &body_off_, h, complete);
        if (!got) return got.error();
        if (!*got) return false;
        user_len_ = h.user_msg_len;
        if (user_len_ < 0 || static_cast<uint64_t>(user_len_) > lim.max_user_msg) {
          return make_error(Errc::LimitExceeded, "user message length " + std::to_string(user_len_) +
                                                     " outside 0.." + std::to_string(lim.max_user_msg));
        }
        body_stage_ = kUserBody;
        break;
      }
      case kUserBody: {
        const auto need = static_cast<size_t>(user_len_);
        if (data.size() - body_off_ < need) return complete ? Result<bool>(stream_truncated()) : Result<bool>(false);
        if (!charge(need)) return over_memory("user message refused");
        message_ = UserMsg{Bytes(data.begin() + static_cast<std::ptrdiff_t>(body_off_),
                                 data.begin() + static_cast<std::ptrdiff_t>(body_off_ + need))};
        body_off_ += need;
        return true;
      }
      case kSingle: {
        const auto single = [&](auto v) -> Result<bool> {
          auto got = decode_at(data, &body_off_, v, complete);
          if (got && *got) message_ = std::move(v);
          return got;
        };
        switch (static_cast<MsgType>(data[0])) {
          case MsgType::Ping: return single(Ping{});
          case MsgType::AckResp: return single(AckResp{});
          default: return single(ErrResp{});
        }
      }
      default: return make_error(Errc::Internal, "stream decoder in a bad state");
    }
  }
}

// A whole message is at hand (decrypted, or a complete compress object): unwrap compression and
// parse it.
StreamDecoder::State StreamDecoder::finish(ByteView msg) {
  scan_.reset();  // msg is a new buffer, offsets into the old one mean nothing here
  Bytes decompressed;
  if (!msg.empty() && msg[0] == static_cast<uint8_t>(MsgType::Compress)) {
    auto d = decompress_payload(msg.subspan(1), opts_.limits.max_stream_decompressed, opts_.limits);
    if (!d) return fail(d.error());
    decompressed = std::move(d.value());
    msg = decompressed;
  }
  if (msg.empty()) return fail(make_error(Errc::Truncated, "stream message is empty"));
  auto r = parse_body(msg, true);
  if (!r) return fail(r.error());
  state_ = State::Done;
  return state_;
}

StreamDecoder::State StreamDecoder::step(ByteView all) {
  if (phase_ == Phase::Label) {
    ByteView rest = all.subspan(pos_);
    if (rest.empty()) return state_;
    if (rest[0] == static_cast<uint8_t>(MsgType::HasLabel)) {
      if (rest.size() < 2 || rest.size() < 2 + static_cast<size_t>(rest[1])) return state_;
      peer_label_.assign(reinterpret_cast<const char *>(rest.data()) + 2, rest[1]);
    }
    auto r = check_label(rest, opts_.label, opts_.skip_inbound_label_check);
    if (!r) return fail(r.error());
    pos_ = all.size() - r->size();
    phase_ = Phase::Type;
  }
  if (phase_ == Phase::Type) {
    ByteView rest = all.subspan(pos_);
    if (rest.empty()) return state_;
    const bool enc_on = opts_.keyring && !opts_.keyring->empty();
    const auto type = static_cast<MsgType>(rest[0]);
    if (type == MsgType::Encrypt) {
      if (!enc_on) return fail(make_error(Errc::NoKeys, "remote state is encrypted and encryption is not configured"));
      if (rest.size() < 5) return state_;
      const size_t len = static_cast<size_t>(rest[1]) << 24 | static_cast<size_t>(rest[2]) << 16 |
                         static_cast<size_t>(rest[3]) << 8 | rest[4];
      if (len > opts_.limits.max_encrypted_stream) {
        return fail(make_error(Errc::LimitExceeded, "encrypted stream of " + std::to_string(len) +
                                                        " bytes is over max_encrypted_stream"));
      }
      if (rest.size() < 5 + len) return state_;
      Bytes aad(rest.begin(), rest.begin() + 5);
      aad.insert(aad.end(), opts_.label.begin(), opts_.label.end());
      auto plain = decrypt_payload(opts_.keyring->keys(), rest.subspan(5, len), aad);
      if (!plain) return fail(plain.error());
      encrypted_ = true;
      return finish(*plain);
    }
    if (enc_on && opts_.verify_incoming) {
      return fail(make_error(Errc::NoKeys, "encryption is configured but remote state is not encrypted"));
    }
    if (type == MsgType::Compress) {  // wait for the whole compress object, then unwrap it
      size_t off = 1;
      Compress c;
      auto got = decode_at(rest, &off, c, false);
      if (!got) return fail(got.error());
      if (!*got) return state_;
      return finish(rest.first(off));
    }
    phase_ = Phase::Body;
  }
  auto r = parse_body(all.subspan(pos_), false);
  if (!r) return fail(r.error());
  if (*r) state_ = State::Done;
  return state_;
}

Result<StreamMessage> StreamDecoder::decode(ByteView all, const StreamIn &opts) {
  StreamDecoder d(opts);
  // The whole message is at hand: parse it in place instead of copying it into buf_ (feed's
  // rule kept: what ends within the cap is decoded whatever follows it).
  const size_t cap = opts.limits.max_stream_bytes + 5;
  d.step(all.first(std::min(all.size(), cap)));
  if (all.size() > cap && d.state_ == State::NeedMore) {
    return make_error(Errc::LimitExceeded, "stream message over max_stream_bytes");
  }
  switch (d.state_) {
    case State::Done: return std::move(d.message());
    case State::Failed: return d.error();
    case State::NeedMore: break;
  }
  return stream_truncated();
}

}  // namespace memberlist::wire
