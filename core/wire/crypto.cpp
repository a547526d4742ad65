#include "wire/crypto.hpp"

#include <algorithm>
#include <memory>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace memberlist::wire {

namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const EVP_CIPHER *gcm_for(size_t key_len) {
  switch (key_len) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

bool contains(const std::vector<Bytes> &keys, ByteView key) {
  return std::any_of(keys.begin(), keys.end(),
                     [&](const Bytes &k) { return std::equal(k.begin(), k.end(), key.begin(), key.end()); });
}

// Runs AES-GCM over `in`; for decryption `tag` is checked, for encryption it is written.
bool gcm(bool encrypt, ByteView key, const uint8_t *nonce, ByteView aad, ByteView in, uint8_t *out,
         uint8_t *tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return false;
  int len = 0;
  if (EVP_CipherInit_ex(ctx.get(), gcm_for(key.size()), nullptr, nullptr, nullptr, encrypt) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1) return false;
  if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce, encrypt) != 1) return false;
  if (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return false;
  }
  if (!in.empty() && EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1) {
    return false;
  }
  if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1) return false;
  if (EVP_CipherFinal_ex(ctx.get(), out + in.size(), &len) != 1) return false;
  if (encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) return false;
  return true;
}

}  // namespace

Status validate_key(ByteView key) {
  if (!gcm_for(key.size())) {
    return make_error(Errc::BadKey, "key size must be 16, 24 or 32 bytes, not " + std::to_string(key.size()));
  }
  return Ok{};
}

Result<Keyring> Keyring::make(const std::vector<Bytes> &keys, const Bytes &primary) {
  Keyring k;
  if (keys.empty() && primary.empty()) return k;
  if (primary.empty()) return make_error(Errc::BadKey, "keyring: keys given without a primary key");
  if (auto st = k.add_key(primary); !st) return st.error();
  for (const auto &key : keys) {
    if (auto st = k.add_key(key); !st) return st.error();
  }
  return k;
}

Status Keyring::add_key(ByteView key) {
  if (auto st = validate_key(key); !st) return st;
  if (!contains(keys_, key)) keys_.emplace_back(key.begin(), key.end());
  return Ok{};
}

Status Keyring::use_key(ByteView key) {
  auto it = std::find_if(keys_.begin(), keys_.end(),
                         [&](const Bytes &k) { return std::equal(k.begin(), k.end(), key.begin(), key.end()); });
  if (it == keys_.end()) return make_error(Errc::BadKey, "requested key is not in the keyring");
  std::rotate(keys_.begin(), it, it + 1);
  return Ok{};
}

Status Keyring::remove_key(ByteView key) {
  if (!keys_.empty() && std::equal(keys_[0].begin(), keys_[0].end(), key.begin(), key.end())) {
    return make_error(Errc::BadKey, "removing the primary key is not allowed");
  }
  std::erase_if(keys_, [&](const Bytes &k) { return std::equal(k.begin(), k.end(), key.begin(), key.end()); });
  return Ok{};
}

size_t encrypted_length(uint8_t version, size_t n) {
  if (version == 0) return 1 + kNonceSize + n + (16 - n % 16) + kTagSize;
  return 1 + kNonceSize + n + kTagSize;
}

std::optional<Md5> md5(ByteView data) {
  Md5 out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr) != 1 || len != out.size()) {
    return std::nullopt;
  }
  return out;
}

Nonce random_nonce() {
  Nonce n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1) {
    // OpenSSL's DRBG failing is not recoverable; a fixed nonce would break GCM, so stop here.
    std::abort();
  }
  return n;
}

Result<Bytes> encrypt_payload(uint8_t version, ByteView key, const Nonce &nonce, ByteView plain, ByteView aad) {
  if (version > 1) return make_error(Errc::Unsupported, "encryption version " + std::to_string(version));
  if (auto st = validate_key(key); !st) return st.error();
  Bytes padded;
  if (version == 0) {  // PKCS7 to a multiple of 16, 1..16 pad bytes
    const size_t pad = 16 - plain.size() % 16;
    padded.reserve(plain.size() + pad);
    padded.assign(plain.begin(), plain.end());
    padded.insert(padded.end(), pad, static_cast<uint8_t>(pad));
    plain = padded;
  }
  Bytes out(1 + kNonceSize + plain.size() + kTagSize);
  out[0] = version;
  std::copy(nonce.begin(), nonce.end(), out.begin() + 1);
  uint8_t *ct = out.data() + 1 + kNonceSize;
  if (!gcm(true, key, nonce.data(), aad, plain, ct, ct + plain.size())) {
    return make_error(Errc::Internal, "AES-GCM encryption failed");
  }
  return out;
}

Result<Bytes> decrypt_payload(std::span<const Bytes> keys, ByteView msg, ByteView aad) {
  if (msg.empty()) return make_error(Errc::Truncated, "cannot decrypt empty payload");
  const uint8_t version = msg[0];
  if (version > 1) return make_error(Errc::Unsupported, "unsupported encryption version " + std::to_string(version));
  if (msg.size() < encrypted_length(version, 0)) return make_error(Errc::Truncated, "payload is too small to decrypt");
  if (keys.empty()) return make_error(Errc::NoKeys, "no keys to decrypt with");
  const uint8_t *nonce = msg.data() + 1;
  ByteView ct = msg.subspan(1 + kNonceSize, msg.size() - 1 - kNonceSize - kTagSize);
  Bytes tag(msg.end() - kTagSize, msg.end());
  Bytes plain(ct.size() + 16);
  for (const auto &key : keys) {
    if (!gcm_for(key.size())) continue;
    if (!gcm(false, key, nonce, aad, ct, plain.data(), tag.data())) continue;
    plain.resize(ct.size());
    if (version == 0) {  // strip PKCS7 by the last byte's value, as memberlist does
      const size_t pad = plain.empty() ? 0 : plain.back();
      if (pad > plain.size()) return make_error(Errc::Malformed, "bad PKCS7 padding");
      plain.resize(plain.size() - pad);
    }
    return plain;
  }
  return make_error(Errc::DecryptFailed, "no installed keys could decrypt the message");
}

}  // namespace memberlist::wire
