// AES-GCM payload encryption and the keyring (WIRE.md §5.6).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/error.hpp"

namespace memberlist::wire {

inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
using Nonce = std::array<uint8_t, kNonceSize>;

// MD5 of data: the integrity check (not a security one) of Grafana dskit's TCP transport packets.
// Nothing when OpenSSL refuses MD5 (a FIPS-only configuration): the caller fails that packet.
using Md5 = std::array<uint8_t, 16>;
std::optional<Md5> md5(ByteView data);

// AES-128/192/256: 16, 24 or 32 bytes.
Status validate_key(ByteView key);

// An ordered set of keys; keys()[0] is the primary, used to encrypt. Plain data: the runtime
// shares one behind a lock with the embedding program.
class Keyring {
 public:
  Keyring() = default;
  // memberlist's NewKeyring: no keys and no primary -> empty ring (encryption off); keys
  // without a primary -> error; otherwise primary first, the other keys after it.
  static Result<Keyring> make(const std::vector<Bytes> &keys, const Bytes &primary);
  Status add_key(ByteView key);     // no-op when present; becomes primary on an empty ring
  Status use_key(ByteView key);     // moves an installed key to the front
  Status remove_key(ByteView key);  // refuses the primary; no-op for unknown keys
  const std::vector<Bytes> &keys() const { return keys_; }
  const Bytes *primary() const { return keys_.empty() ? nullptr : &keys_.front(); }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<Bytes> keys_;
};

// 1 + 12 + n + 16 (v1), or with PKCS7 padding (v0).
size_t encrypted_length(uint8_t version, size_t plain_len);
// The largest overhead (v0 with a full pad block): memberlist's encryptOverhead, 45.
inline constexpr size_t kEncryptOverhead = 45;
// Encryption version from the sender's protocol version: 1 -> 0, otherwise 1.
inline uint8_t encryption_version_for(uint8_t protocol_version) { return protocol_version == 1 ? 0 : 1; }

Nonce random_nonce();
// version | nonce | GCM(plaintext [+ PKCS7 for v0]) | tag, with `aad` authenticated.
Result<Bytes> encrypt_payload(uint8_t version, ByteView key, const Nonce &nonce, ByteView plain,
                              ByteView aad);
// Tries every key in order; the first that authenticates wins.
Result<Bytes> decrypt_payload(std::span<const Bytes> keys, ByteView msg, ByteView aad);

}  // namespace memberlist::wire
