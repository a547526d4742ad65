#include "wire/packet.hpp"

#include "wire/codec.hpp"
#include "wire/framing.hpp"

namespace memberlist::wire {

Result<Bytes> encode_packet(ByteView payload, const PacketOut &opts) {
  if (payload.empty()) return make_error(Errc::Truncated, "empty packet payload");
  Bytes buf;
  ByteView cur = payload;
  if (opts.compress) {
    Bytes c = compress_payload(payload, opts.compression);
    if (c.size() < payload.size()) {
      buf = std::move(c);
      cur = buf;
    }
  }
  if (opts.crc) {
    buf = add_crc(cur);
    cur = buf;
  }
  if (opts.keyring && !opts.keyring->empty()) {
    auto enc = encrypt_payload(opts.encryption_version, *opts.keyring->primary(),
                               opts.nonce ? *opts.nonce : random_nonce(), cur, view(opts.label));
    if (!enc) return enc.error();
    buf = std::move(enc.value());
    cur = buf;
  }
  if (!opts.label.empty()) return add_label_header(opts.label, cur);
  if (buf.empty()) return Bytes(cur.begin(), cur.end());
  return buf;
}

Result<OpenedPacket> open_packet(ByteView datagram, const PacketIn &opts) {
  OpenedPacket out;
  auto rest = check_label(datagram, opts.label, opts.skip_inbound_label_check);
  if (!rest) return rest.error();
  ByteView cur = *rest;
  if (opts.keyring && !opts.keyring->empty()) {
    auto plain = decrypt_payload(opts.keyring->keys(), cur, view(opts.label));
    if (plain) {
      out.storage = std::move(plain.value());
      cur = out.storage;
      out.was_encrypted = true;
    } else if (opts.verify_incoming) {
      return plain.error();
    }
  }
  auto body = strip_crc(cur, &out.had_crc);
  if (!body) return body.error();
  out.payload = *body;
  if (out.payload.empty()) return make_error(Errc::Truncated, "empty packet");
  return out;
}

namespace {
// `b.decompressed` counts what every compress wrapper in this packet has produced so far:
// max_packet_decompressed bounds the packet as a whole, not each wrapper (a datagram of many
// small wrappers would otherwise multiply it).
// `parts` counts compound parts at every level against max_packet_parts; once it is spent,
// `over` is set, one error says so, and nothing more of the packet is looked at (a datagram's
// work is bounded by its budget, not by how its nesting multiplies).
struct Budget {
  size_t decompressed = 0;
  size_t parts = 0;
  bool over = false;
};

void unpack_into(ByteView msg, const Limits &limits, size_t depth, Budget &b, PacketContents &out) {
  if (b.over) return;
  if (msg.empty()) {
    out.errors.push_back(make_error(Errc::Truncated, "empty message"));
    return;
  }
  if (depth > limits.max_nesting) {
    out.errors.push_back(make_error(Errc::LimitExceeded, "compound/compress nested deeper than max_nesting"));
    return;
  }
  switch (static_cast<MsgType>(msg[0])) {
    case MsgType::Compound: {
      auto parts = split_compound(msg.subspan(1));
      if (!parts) {
        out.errors.push_back(parts.error());
        return;
      }
      if (parts->truncated) {
        out.errors.push_back(make_error(Errc::Truncated, "compound: " + std::to_string(parts->truncated) +
                                                             " truncated parts"));
      }
      for (ByteView part : parts->parts) {
        if (b.over) return;
        if (b.parts >= limits.max_packet_parts) {
          b.over = true;
          out.errors.push_back(make_error(Errc::LimitExceeded, "packet carries more than " +
                                                                   std::to_string(limits.max_packet_parts) +
                                                                   " compound parts; the rest is dropped"));
          return;
        }
        ++b.parts;
        unpack_into(part, limits, depth + 1, b, out);
      }
      return;
    }
    case MsgType::Compress: {
      auto plain = decompress_payload(msg.subspan(1), limits.max_packet_decompressed - b.decompressed, limits);
      if (!plain) {
        out.errors.push_back(plain.error());
        return;
      }
      b.decompressed += plain->size();
      unpack_into(*plain, limits, depth + 1, b, out);
      return;
    }
    case MsgType::Err:  // a stream reply only; memberlist drops it in a packet
      out.errors.push_back(make_error(Errc::BadType, "errResp is not valid in a packet"));
      return;
    default: {
      auto m = decode_message(msg, limits);
      if (m) {
        out.messages.push_back(std::move(m.value()));
      } else {
        out.errors.push_back(m.error());
      }
    }
  }
}
}  // namespace

PacketContents unpack_payload(ByteView payload, const Limits &limits) {
  PacketContents out;
  Budget b;
  unpack_into(payload, limits, 0, b, out);
  return out;
}

Result<PacketContents> decode_packet(ByteView datagram, const PacketIn &opts) {
  auto opened = open_packet(datagram, opts);
  if (!opened) return opened.error();
  return unpack_payload(opened->payload, opts.limits);
}

}  // namespace memberlist::wire
