// The UDP packet pipeline (WIRE.md §5.1): label -> encryption -> CRC -> compress -> compound.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/framing.hpp"
#include "wire/crypto.hpp"
#include "wire/error.hpp"
#include "wire/limits.hpp"
#include "wire/messages.hpp"

namespace memberlist::wire {

struct PacketOut {
  std::string_view label;            // "" = no label header
  bool compress = false;             // wrap in compress, only if that is strictly smaller
  Compression compression = Compression::Lzw;
  bool crc = false;                  // destination known with PMax >= 5
  const Keyring *keyring = nullptr;  // encrypt with the primary when non-null and non-empty
  uint8_t encryption_version = 1;
  std::optional<Nonce> nonce;        // tests only; otherwise random
};
// payload: one message or a compound, type byte first.
Result<Bytes> encode_packet(ByteView payload, const PacketOut &opts);

struct PacketIn {
  std::string_view label;
  bool skip_inbound_label_check = false;
  const Keyring *keyring = nullptr;  // encryption enabled when non-null and non-empty
  bool verify_incoming = true;       // with encryption: refuse what does not decrypt
  Limits limits;
};
// Undoes label, encryption and CRC. The result owns its bytes when decryption made new ones.
struct OpenedPacket {
  Bytes storage;
  ByteView payload;
  bool had_crc = false;
  bool was_encrypted = false;
};
Result<OpenedPacket> open_packet(ByteView datagram, const PacketIn &opts);

// Every message a payload carries, compound and compress unpacked recursively in order. Like
// memberlist, a bad part is reported in `errors` while the other parts are still delivered.
struct PacketContents {
  std::vector<Message> messages;
  std::vector<Error> errors;
};
PacketContents unpack_payload(ByteView payload, const Limits &limits);

// open_packet + unpack_payload. Fails only when the outer layers fail.
Result<PacketContents> decode_packet(ByteView datagram, const PacketIn &opts);

}  // namespace memberlist::wire
