#include "net/shared_keyring.hpp"

#include <exception>

namespace memberlist::net {

template <class R>
R SharedKeyring::apply(const std::function<R(wire::Keyring &)> &f) const {
  std::shared_ptr<Owner> owner;
  {
    std::lock_guard lock(mu_);
    if (!attached_) return f(ring_);
    owner = owner_.lock();
  }
  if (owner) {
    std::optional<R> out;
    std::exception_ptr ex;
    (void)owner->run_on_ring([&](wire::Keyring &live) {
      std::lock_guard lock(mu_);
      if (!attached_) return;  // detached meanwhile: the standalone ring below
      try {
        out = f(live);
      } catch (...) {
        ex = std::current_exception();
      }
    });
    if (ex) std::rethrow_exception(ex);
    if (out) return std::move(*out);
  }
  // The host could not run it (its runtime stopped): it detaches as it closes; until then the
  // standalone copy answers.
  std::lock_guard lock(mu_);
  return f(ring_);
}

namespace {
wire::Status checked(wire::ByteView key, const std::function<wire::Status()> &op) {
  if (auto v = wire::validate_key(key); !v) return v;
  return op();
}
}  // namespace

wire::Status SharedKeyring::add(wire::ByteView key) {
  return checked(key, [&] { return apply<wire::Status>([&](wire::Keyring &r) { return r.add_key(key); }); });
}
wire::Status SharedKeyring::use(wire::ByteView key) {
  return checked(key, [&] { return apply<wire::Status>([&](wire::Keyring &r) { return r.use_key(key); }); });
}
wire::Status SharedKeyring::remove(wire::ByteView key) {
  return checked(key, [&] { return apply<wire::Status>([&](wire::Keyring &r) { return r.remove_key(key); }); });
}
size_t SharedKeyring::count() const {
  return apply<size_t>([](wire::Keyring &r) { return r.keys().size(); });
}
std::optional<wire::Bytes> SharedKeyring::key(size_t i) const {
  return apply<std::optional<wire::Bytes>>([&](wire::Keyring &r) -> std::optional<wire::Bytes> {
    if (i >= r.keys().size()) return std::nullopt;
    return r.keys()[i];
  });
}
std::optional<wire::Bytes> SharedKeyring::primary() const { return key(0); }

bool SharedKeyring::in_use() const {
  std::lock_guard lock(mu_);
  return attached_;
}

bool SharedKeyring::attach(std::weak_ptr<Owner> owner, wire::Keyring &node_ring, bool install) {
  std::lock_guard lock(mu_);
  if (attached_) return false;
  if (install) node_ring = ring_;
  owner_ = std::move(owner);
  attached_ = true;
  return true;
}

void SharedKeyring::detach(const wire::Keyring &node_ring) {
  std::lock_guard lock(mu_);
  if (!attached_) return;
  ring_ = node_ring;
  attached_ = false;
  owner_.reset();
}

}  // namespace memberlist::net
