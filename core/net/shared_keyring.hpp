// SharedKeyring: a keyring that a program holds and changes while a node uses it — memberlist's
// *Keyring, whose AddKey/UseKey/RemoveKey work on a running memberlist.
//
// Standalone, the keys live here behind a mutex. While a NodeHost uses it ("attached"), the
// node's own keyring (protocol::Node::keyring(), read on the loop thread for every packet) is
// the authoritative copy and every operation runs on that loop thread; when the host closes, the
// keys are copied back and the keyring is standalone again. One host at a time.
//
// The mutex is never held while waiting for the loop, so an operation from any callback (a
// notification thread, or the loop itself) cannot deadlock; from one of the host's own callbacks
// on the loop it runs inline, on the live ring.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "wire/crypto.hpp"

namespace memberlist::net {

class SharedKeyring {
 public:
  SharedKeyring() = default;
  explicit SharedKeyring(wire::Keyring ring) : ring_(std::move(ring)) {}
  SharedKeyring(const SharedKeyring &) = delete;
  SharedKeyring &operator=(const SharedKeyring &) = delete;

  // memberlist's AddKey / UseKey / RemoveKey (the key is validated: 16, 24 or 32 bytes).
  wire::Status add(wire::ByteView key);
  wire::Status use(wire::ByteView key);
  wire::Status remove(wire::ByteView key);
  size_t count() const;
  std::optional<wire::Bytes> key(size_t i) const;  // i = 0: the primary
  std::optional<wire::Bytes> primary() const;
  bool in_use() const;  // attached to a host now

  // What a host gives the keyring: runs fn(node's ring) on its loop thread, false when the host
  // can no longer run anything (its runtime is gone).
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual bool run_on_ring(const std::function<void(wire::Keyring &)> &fn) = 0;
  };

 private:
  friend class NodeHost;
  // On the host's loop thread. attach: false when another host uses the keyring; `install`
  // replaces the node's ring with these keys. detach: the node's keys become the standalone ones.
  bool attach(std::weak_ptr<Owner> owner, wire::Keyring &node_ring, bool install);
  void detach(const wire::Keyring &node_ring);

  template <class R>
  R apply(const std::function<R(wire::Keyring &)> &f) const;

  mutable std::mutex mu_;
  mutable wire::Keyring ring_;  // guarded by mu_: authoritative while not attached
  bool attached_ = false;       // guarded by mu_
  std::weak_ptr<Owner> owner_;  // guarded by mu_
};

}  // namespace memberlist::net
