// The adapters: what a program registers on an ml_config_t (C function tables with a user
// pointer), seen by the core as protocol::*Delegate interfaces. Each owns a UserData, so
// user_free runs exactly once, when the registration is released.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "member.hpp"

namespace memberlist::capi {
// ---- adapters: registrations -> protocol delegates
inline ml_member_t *as_c(ml_member &m) { return &m; }

struct DelegateAdapter final : protocol::Delegate {
  ml_delegate_t d;
  UserData ud;
  DelegateAdapter(const ml_delegate_t &del, void *user, ml_user_free_fn f) : d(del), ud(user, f) {}

  protocol::Bytes node_meta(size_t limit) override {
    if (d.node_meta == nullptr) return {};
    protocol::Bytes buf(limit);
    const size_t n = d.node_meta(ud.user, buf.data(), limit);
    buf.resize(n);  // over `limit`: zero-filled, so the node reports the size error
    return buf;
  }
  void notify_msg(protocol::ByteView msg) override {
    if (d.notify_msg != nullptr) d.notify_msg(ud.user, msg.data(), msg.size());
  }
  static void emit_to_vector(void *ctx, const uint8_t *msg, size_t len) {
    auto *v = static_cast<std::vector<protocol::Bytes> *>(ctx);
    try {
      v->emplace_back(msg, msg + len);
    } catch (...) {  // never unwind through C
    }
  }
  std::vector<protocol::Bytes> get_broadcasts(size_t overhead, size_t limit) override {
    std::vector<protocol::Bytes> out;
    if (d.get_broadcasts != nullptr) d.get_broadcasts(ud.user, overhead, limit, &emit_to_vector, &out);
    return out;
  }
  static void emit_once(void *ctx, const uint8_t *buf, size_t len) {
    auto *b = static_cast<std::optional<protocol::Bytes> *>(ctx);
    if (b->has_value()) return;
    try {
      b->emplace(buf, buf + len);
    } catch (...) {
    }
  }
  protocol::Bytes local_state(bool join) override {
    std::optional<protocol::Bytes> out;
    if (d.local_state != nullptr) d.local_state(ud.user, join ? 1 : 0, &emit_once, &out);
    return out ? std::move(*out) : protocol::Bytes{};
  }
  void merge_remote_state(protocol::ByteView buf, bool join) override {
    if (d.merge_remote_state != nullptr) d.merge_remote_state(ud.user, buf.data(), buf.size(), join ? 1 : 0);
  }
};

struct EventAdapter final : protocol::EventDelegate {
  ml_event_fn fn;
  UserData ud;
  EventAdapter(ml_event_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  void fire(ml_event_t ev, const protocol::Member &m) {
    ml_member cm(m);
    fn(ud.user, ev, as_c(cm));
  }
  void notify_join(const protocol::Member &m) override { fire(ML_EVENT_JOIN, m); }
  void notify_leave(const protocol::Member &m) override { fire(ML_EVENT_LEAVE, m); }
  void notify_update(const protocol::Member &m) override { fire(ML_EVENT_UPDATE, m); }
};

struct ConflictAdapter final : protocol::ConflictDelegate {
  ml_conflict_fn fn;
  UserData ud;
  ConflictAdapter(ml_conflict_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  void notify_conflict(const protocol::Member &existing, const protocol::Member &other) override {
    ml_member a(existing), b(other);
    fn(ud.user, &a, &b);
  }
};

struct MergeAdapter final : protocol::MergeDelegate {
  ml_merge_fn fn;
  UserData ud;
  MergeAdapter(ml_merge_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  std::optional<std::string> notify_merge(const std::vector<protocol::Member> &peers) override {
    ml_members list;
    list.list.reserve(peers.size());
    for (const auto &p : peers) list.list.emplace_back(p);
    char err[512] = {0};
    if (fn(ud.user, &list, err, sizeof err) == 0) return std::nullopt;
    return err[0] != '\0' ? std::string(err) : std::string("merge refused by the merge delegate");
  }
};

struct AliveAdapter final : protocol::AliveDelegate {
  ml_alive_fn fn;
  UserData ud;
  AliveAdapter(ml_alive_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  std::optional<std::string> notify_alive(const protocol::Member &peer) override {
    ml_member m(peer);
    if (fn(ud.user, &m) == 0) return std::nullopt;
    return std::string("alive message refused by the alive delegate");
  }
};

struct NodeSelectionAdapter final : protocol::NodeSelectionDelegate {
  ml_node_selection_fn fn;
  UserData ud;
  ml_members scratch;  // reused call after call (its capacity), so a pick allocates only the strings
  NodeSelectionAdapter(ml_node_selection_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  int64_t select_nodes(std::vector<protocol::Member> &candidates, std::vector<uint8_t> &selected) override {
    scratch.list.clear();
    scratch.list.reserve(candidates.size());
    for (auto &c : candidates) scratch.list.emplace_back(std::move(c));
    const int64_t preferred = fn(ud.user, &scratch, selected.data());
    scratch.list.clear();
    return preferred;  // the node checks the range and logs a bad one
  }
};

struct TcpPingsAdapter final : protocol::TcpPingPolicy {
  ml_tcp_pings_fn fn;
  UserData ud;
  TcpPingsAdapter(ml_tcp_pings_fn f, void *user, ml_user_free_fn uf) : fn(f), ud(user, uf) {}
  bool disable_tcp_pings_for(const std::string &node) override { return fn(ud.user, node.c_str()) != 0; }
};

struct PingAdapter final : protocol::PingDelegate {
  static constexpr size_t kAckPayloadLimit = 512;
  ml_ping_delegate_t d;
  UserData ud;
  PingAdapter(const ml_ping_delegate_t &p, void *user, ml_user_free_fn uf) : d(p), ud(user, uf) {}
  protocol::Bytes ack_payload() override {
    if (d.ack_payload == nullptr) return {};
    protocol::Bytes buf(kAckPayloadLimit);
    const size_t n = d.ack_payload(ud.user, buf.data(), buf.size());
    buf.resize(n < kAckPayloadLimit ? n : kAckPayloadLimit);
    return buf;
  }
  void notify_ping_complete(const protocol::Member &other, protocol::Duration rtt,
                            protocol::ByteView payload) override {
    if (d.notify_ping_complete == nullptr) return;
    ml_member m(other);
    d.notify_ping_complete(ud.user, &m, static_cast<int64_t>(rtt.count()), payload.data(), payload.size());
  }
};

struct LogRegistration final : protocol::Logger {
  int min_level;
  ml_log_fn fn;
  UserData ud;
  LogRegistration(int l, ml_log_fn f, void *user, ml_user_free_fn uf) : min_level(l), fn(f), ud(user, uf) {}
  bool enabled(protocol::LogLevel level) const override { return static_cast<int>(level) >= min_level; }
  void log(protocol::LogLevel level, const std::string &msg) override {
    if (!enabled(level)) return;
    ml_log_level_t l = ML_LOG_ERROR;
    switch (level) {
      case protocol::LogLevel::Debug: l = ML_LOG_DEBUG; break;
      case protocol::LogLevel::Info: l = ML_LOG_INFO; break;
      case protocol::LogLevel::Warn: l = ML_LOG_WARN; break;
      case protocol::LogLevel::Error: l = ML_LOG_ERROR; break;
    }
    fn(ud.user, l, msg.c_str());
  }
};

// The external transport: net::ExternalCallbacks calling the C functions.
struct TransportRegistration {
  ml_transport_t t;
  UserData ud;
  TransportRegistration(const ml_transport_t &tr, void *user, ml_user_free_fn uf) : t(tr), ud(user, uf) {}
  net::ExternalCallbacks callbacks() {
    net::ExternalCallbacks cb;
    cb.send_packet = [this](const protocol::Endpoint &to, wire::ByteView data) {
      const std::string addr = protocol::to_string(to);
      t.send_packet(ud.user, addr.c_str(), to.name.c_str(), data.data(), data.size());
    };
    cb.open_stream = [this](uint64_t id, const protocol::Endpoint &to, protocol::Time deadline, wire::ByteView data,
                            bool expect_reply) {
      const std::string addr = protocol::to_string(to);
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const int64_t timeout_ms = left.count() < 1 ? 1 : static_cast<int64_t>(left.count());
      t.open_stream(ud.user, id, addr.c_str(), to.name.c_str(), timeout_ms, data.data(), data.size(),
                    expect_reply ? 1 : 0);
    };
    cb.reply_stream = [this](uint64_t id, wire::ByteView data) { t.reply_stream(ud.user, id, data.data(), data.size()); };
    cb.close_stream = [this](uint64_t id) { t.close_stream(ud.user, id); };
    return cb;
  }
};

struct Registrations {
  std::unique_ptr<DelegateAdapter> delegate;
  std::unique_ptr<EventAdapter> events;
  std::unique_ptr<ConflictAdapter> conflict;
  std::unique_ptr<MergeAdapter> merge;
  std::unique_ptr<AliveAdapter> alive;
  std::unique_ptr<PingAdapter> ping;
  std::unique_ptr<TcpPingsAdapter> tcp_pings;
  std::unique_ptr<NodeSelectionAdapter> node_selection;
  std::unique_ptr<LogRegistration> log;
  std::unique_ptr<TransportRegistration> transport;
  bool any() const {
    return delegate || events || conflict || merge || alive || ping || tcp_pings || node_selection || log || transport;
  }
};


}  // namespace memberlist::capi
