// The opaque structs behind the C handles (memberlist.h): what each owns and who frees it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "adapters.hpp"
#include "net/runtime.hpp"
#include "net/shared_keyring.hpp"

struct ml_runtime {
  std::shared_ptr<memberlist::net::Runtime> rt;
  std::atomic<int> users{0};  // memberlists on it: ml_runtime_destroy refuses while any remain
};

// The embedder's side of a runtime whose notifications it runs (ml_runtime_notify_external).
struct ml_notify {
  std::unique_ptr<memberlist::net::NotifyRunners> runners;
};

// A reference to a keyring. ml_keyring_create's is owned by the caller; ml_memberlist_keyring's
// lives inside its memberlist.
struct ml_keyring {
  std::shared_ptr<memberlist::net::SharedKeyring> st;
};

struct ml_config {
  memberlist::protocol::Config cfg;
  // Moved to the memberlist by ml_memberlist_create (which takes a const ml_config_t *).
  mutable memberlist::capi::Registrations regs;
  mutable bool regs_taken = false;  // regs went to a memberlist: this config cannot make another
  std::shared_ptr<memberlist::net::SharedKeyring> keyring;  // ml_config_set_keyring, or null
};

struct ml_memberlist {
  // Shared with the host, which keeps them until its last callback has returned (a notification
  // in flight at shutdown may outlive this struct): user_free runs after the last callback.
  std::shared_ptr<memberlist::capi::Registrations> regs;
  std::shared_ptr<memberlist::net::NodeHost> host;
  ml_runtime *rt = nullptr;  // the shared runtime, or null (private)
  ml_keyring keyring;        // the host's keyring
  uint16_t default_port = 0;
  std::mutex shutdown_mu;
  bool shut_down = false;  // guarded by shutdown_mu
  std::atomic<bool> closed{false};
};
