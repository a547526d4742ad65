#include "net/net_transport.hpp"

#include <sys/socket.h>

#include <cctype>
#include <cstring>

#include "net/address.hpp"
#include "wire/crypto.hpp"

namespace memberlist::net {

using wire::Errc;
using wire::make_error;
using State = wire::StreamDecoder::State;

namespace {
// A failed system call in Go's net wording, "dial tcp 10.0.0.1:7946: connect: connection
// refused": the Go binding passes these texts on as memberlist's own errors, which come from Go's
// net package. errno's text as Go's syscall.Errno prints it (glibc's, first letter lower case).
wire::Error sys_error(int uv_status, const std::string &what, const char *syscall) {
  std::string text = uv_status < 0 && uv_status > -1000 ? std::strerror(-uv_status) : uv_strerror(uv_status);
  if (text.size() > 1 && !std::isupper(static_cast<unsigned char>(text[1])))
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return make_error(Errc::Internal, what + ": " + syscall + ": " + text);
}
// A dial that failed: Errc::Network says "never connected", which the node needs to know (a TCP
// fallback ping that cannot connect is expected for a dead node and not logged, as memberlist).
wire::Error dial_error(int uv_status, const Endpoint &peer) {
  wire::Error e = sys_error(uv_status, "dial tcp " + protocol::to_string(peer), "connect");
  e.code = Errc::Network;
  return e;
}
}  // namespace

struct NetTransport::Udp {
  uv_udp_t h{};
  NetTransport *owner = nullptr;
  bool v6 = false;
};

struct NetTransport::Listener {
  uv_tcp_t h{};
  NetTransport *owner = nullptr;
};

// tcp_only framing: the first byte of every connection.
constexpr uint8_t kFramePacket = 1;
constexpr uint8_t kFrameStream = 2;
constexpr size_t kDigestSize = 16;

struct NetTransport::Conn {
  // tcp_only: what an inbound connection carries (Unknown until its first byte), or an outbound
  // packet connection. Without tcp_only every connection is a Stream.
  enum class Kind : uint8_t { Unknown, Stream, Packet, PacketOut };
  uv_tcp_t h{};
  NetTransport *owner = nullptr;  // null once dropped
  Kind kind = Kind::Stream;
  Bytes pkt;                  // inbound packet: [len][address][body][digest] as read so far
  size_t charged = 0;         // bytes of pkt charged against the shared stream memory
  size_t memory_limit = 0;    // that budget's ceiling (Limits::max_stream_memory)
  bool inbound = false;
  uint64_t id = 0;
  Endpoint peer;
  Time deadline{};
  bool has_deadline = false;
  bool counted = false;       // inbound push/pull, in the reading phase
  bool pending = false;       // inbound, in pending_ (not known to be a push/pull yet)
  bool got_bytes = false;     // inbound: the first byte arrived
  Time exchange_deadline{};   // inbound: accept + tcp_timeout
  bool silent = false;        // inbound: close without writing the reply (label failure)
  bool expect_reply = false;  // outbound
  bool connected = false;     // outbound: the dial completed
  Bytes out;                  // bytes being written
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::unique_ptr<StreamReader> reader;
};

struct NetTransport::UdpSend {
  uv_udp_send_t req{};
  Udp *udp = nullptr;  // outlives the request: a closing handle cancels its sends first
  Bytes data;
};

namespace {
template <class H>
uv_handle_t *handle(H *h) {
  return reinterpret_cast<uv_handle_t *>(h);
}
template <class H>
uv_stream_t *stream(H *h) {
  return reinterpret_cast<uv_stream_t *>(h);
}
ByteView bytes_of(const uv_buf_t *buf, ssize_t n) {
  return ByteView(reinterpret_cast<const uint8_t *>(buf->base), static_cast<size_t>(n));
}
uv_buf_t buf_of(const Bytes &b) {
  return uv_buf_init(const_cast<char *>(reinterpret_cast<const char *>(b.data())), static_cast<unsigned>(b.size()));
}
}  // namespace

NetTransport::NetTransport(Runtime &rt, NetTransportOptions options) : rt_(&rt), opts_(std::move(options)) {}

NetTransport::~NetTransport() {
  if (!closed_) close();
}

wire::Result<std::unique_ptr<NetTransport>> NetTransport::create(Runtime &rt, NetTransportOptions options) {
  if (options.bind_addrs.empty()) options.bind_addrs.emplace_back("0.0.0.0");
  std::vector<Bytes> ips;
  for (const auto &a : options.bind_addrs) {
    auto ip = parse_ip(a.empty() ? "0.0.0.0" : a);
    if (!ip) return make_error(Errc::Malformed, "bind address '" + a + "' is not an IP address");
    ips.push_back(std::move(*ip));
  }
  if (options.max_inbound_streams < 1) options.max_inbound_streams = 1;
  // With a kernel-chosen port the UDP bind may lose a race for the TCP listener's port number.
  const int attempts = options.bind_port == 0 ? 10 : 1;
  wire::Error last{Errc::Internal, "no attempt made"};
  for (int i = 0; i < attempts; ++i) {
    std::unique_ptr<NetTransport> t(new NetTransport(rt, options));
    t->bind_ips_ = ips;
    int uv_status = 0;
    auto st = t->bind_all(&uv_status);
    if (st) {
      if (auto ts = t->deadline_timer_.init(rt.loop(), [p = t.get()] { p->on_deadline(); }); !ts) {
        t->close();
        return ts.error();
      }
      return t;
    }
    t->close();
    last = st.error();
    if (uv_status != UV_EADDRINUSE) break;
  }
  return last;
}

wire::Status NetTransport::bind_all(int *uv_status) {
  uint16_t port = opts_.bind_port;
  for (const auto &ip : bind_ips_) {
    const bool v6 = ip.size() == 16;
    // Built by appends: gcc 12 -O3 reports a false -Wrestrict on `"[" + string`.
    std::string where;
    if (v6) where.push_back('[');
    where += ip_to_string(ip);
    if (v6) where.push_back(']');
    where.push_back(':');
    sockaddr_storage ss;
    to_sockaddr(Endpoint{ip, port, {}}, v6, &ss);

    auto *l = new Listener;
    int rc = uv_tcp_init_ex(rt_->loop(), &l->h, v6 ? AF_INET6 : AF_INET);
    if (rc != 0) {
      delete l;
      *uv_status = rc;
      return uv_error(rc, "tcp socket");
    }
    l->h.data = l;
    l->owner = this;
    listeners_.push_back(l);
    // uv_tcp_bind sets SO_REUSEADDR; EADDRINUSE may only show at listen().
    rc = uv_tcp_bind(&l->h, reinterpret_cast<const sockaddr *>(&ss), 0);
    if (rc == 0) rc = uv_listen(stream(&l->h), SOMAXCONN, &NetTransport::on_connection);
    if (rc != 0) {
      *uv_status = rc;
      return uv_error(rc, "listen tcp " + where + std::to_string(port));
    }
    if (port == 0) {
      sockaddr_storage bound;
      int len = sizeof bound;
      rc = uv_tcp_getsockname(&l->h, reinterpret_cast<sockaddr *>(&bound), &len);
      auto e = rc == 0 ? from_sockaddr(reinterpret_cast<const sockaddr *>(&bound)) : std::nullopt;
      if (!e) {
        *uv_status = rc;
        return uv_error(rc == 0 ? UV_EINVAL : rc, "getsockname");
      }
      port = e->port;
      to_sockaddr(Endpoint{ip, port, {}}, v6, &ss);
    }

    if (opts_.tcp_only) continue;  // one TCP listener per address, nothing else
    auto *u = new Udp;
    rc = uv_udp_init_ex(rt_->loop(), &u->h, v6 ? AF_INET6 : AF_INET);
    if (rc != 0) {
      delete u;
      *uv_status = rc;
      return uv_error(rc, "udp socket");
    }
    u->h.data = u;
    u->owner = this;
    u->v6 = v6;
    udp_.push_back(u);
    rc = uv_udp_bind(&u->h, reinterpret_cast<const sockaddr *>(&ss), 0);
    if (rc != 0) {
      *uv_status = rc;
      return uv_error(rc, "listen udp " + where + std::to_string(port));
    }
    // memberlist's setUDPRecvBuf: ask for 2 MiB, halve until accepted.
    for (int size = opts_.udp_recv_buffer; size > 0; size /= 2) {
      int v = size;
      if (uv_recv_buffer_size(handle(&u->h), &v) == 0) break;
    }
    if (udp_.size() == 1) {
      int granted = 0;
      if (uv_recv_buffer_size(handle(&u->h), &granted) == 0) udp_recv_buffer_ = granted;
    }
  }
  port_ = port;
  return wire::Ok{};
}

wire::Status NetTransport::start(Sink *sink) {
  if (closed_) return make_error(Errc::OutOfRange, "transport is closed");
  sink_ = sink;
  for (Udp *u : udp_) {
    if (int rc = uv_udp_recv_start(&u->h, &NetTransport::on_alloc, &NetTransport::on_udp_recv); rc != 0) {
      return uv_error(rc, "udp receive");
    }
  }
  return wire::Ok{};
}

void NetTransport::close() {
  if (closed_) return;
  closed_ = true;
  sink_ = nullptr;
  for (Udp *u : udp_) {
    u->owner = nullptr;
    uv_close(handle(&u->h), [](uv_handle_t *h) { delete static_cast<Udp *>(h->data); });
  }
  udp_.clear();
  for (Listener *l : listeners_) {
    l->owner = nullptr;
    uv_close(handle(&l->h), [](uv_handle_t *h) { delete static_cast<Listener *>(h->data); });
  }
  listeners_.clear();
  std::vector<Conn *> all;
  for (auto &[id, c] : inbound_) all.push_back(c);
  for (auto &[id, c] : outbound_) all.push_back(c);
  for (Conn *c : packets_out_) all.push_back(c);
  for (Conn *c : all) drop(c);
  deadline_timer_.close();
}

// ------------------------------------------------------------------------------------- UDP

void NetTransport::on_alloc(uv_handle_t *h, size_t, uv_buf_t *buf) {
  // Both Udp and Conn keep their owner right after the handle.
  NetTransport *t = nullptr;
  if (h->type == UV_UDP) {
    t = static_cast<Udp *>(h->data)->owner;
  } else {
    t = static_cast<Conn *>(h->data)->owner;
  }
  if (!t) {
    *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS to the read callback
    return;
  }
  char *b = t->rt_->read_buffer();  // null: out of memory, the read fails with UV_ENOBUFS
  *buf = uv_buf_init(b, b ? static_cast<unsigned>(Runtime::kReadBufferSize) : 0);
}

void NetTransport::on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const sockaddr *addr,
                               unsigned flags) {
  auto *u = static_cast<Udp *>(h->data);
  NetTransport *t = u->owner;
  if (!t || !t->sink_ || nread < 0 || !addr) return;
  if (flags & UV_UDP_PARTIAL) ++t->stats_.udp_truncated;
  auto from = from_sockaddr(addr);
  if (!from) return;
  t->sink_->on_packet(*from, bytes_of(buf, nread));
}

void NetTransport::send_packet(const Endpoint &to, ByteView data) {
  if (closed_) return;
  if (opts_.tcp_only) {
    send_tcp_packet(to, data);
    return;
  }
  if (udp_.empty()) return;
  Udp *sock = nullptr;
  for (Udp *u : udp_) {
    if (u->v6 == (to.ip.size() == 16)) {
      sock = u;
      break;
    }
  }
  if (!sock) sock = udp_.front();  // an IPv6 socket reaches IPv4 as ::ffff:a.b.c.d when dual-stack
  sockaddr_storage ss;
  if (!to_sockaddr(to, sock->v6, &ss)) {
    send_failed(to, "no socket of this address family");
    return;
  }
  const auto *sa = reinterpret_cast<const sockaddr *>(&ss);
  uv_buf_t b = uv_buf_init(const_cast<char *>(reinterpret_cast<const char *>(data.data())),
                           static_cast<unsigned>(data.size()));
  const int rc = uv_udp_try_send(&sock->h, &b, 1, sa);
  if (rc >= 0) return;
  if (rc != UV_EAGAIN) {
    send_failed(to, uv_strerror(rc));
    return;
  }
  if (udp_queued_ + data.size() > kMaxQueuedSendBytes) {
    send_dropped(to);
    return;
  }
  auto *s = new UdpSend;
  s->udp = sock;
  s->data.assign(data.begin(), data.end());
  s->req.data = s;
  b = buf_of(s->data);
  if (const int queued = uv_udp_send(&s->req, &sock->h, &b, 1, sa,
                                     [](uv_udp_send_t *req, int) {
                                       auto *done = static_cast<UdpSend *>(req->data);
                                       if (NetTransport *t = done->udp->owner) t->udp_queued_ -= done->data.size();
                                       delete done;
                                     });
      queued != 0) {
    send_failed(to, uv_strerror(queued));
    delete s;
    return;
  }
  udp_queued_ += s->data.size();
}

void NetTransport::send_dropped(const Endpoint &to) {
  ++stats_.udp_send_dropped;
  report_drop(to, "Failed to send UDP packet", "send queue full", "datagrams");
}

void NetTransport::report_drop(const Endpoint &to, std::string_view what, const std::string &why,
                               std::string_view unit) {
  ++drops_unlogged_;
  const Time now = std::chrono::steady_clock::now();
  if (last_drop_log_ != Time{} && now - last_drop_log_ < std::chrono::seconds(1)) return;
  last_drop_log_ = now;
  const uint64_t n = drops_unlogged_;
  drops_unlogged_ = 0;
  if (sink_) {
    sink_->on_transport_error(std::string(what) + " to=" + protocol::to_string(to) + ": " + why + ", " +
                              std::to_string(n) + " " + std::string(unit) + " dropped");
  }
}

wire::StreamIn NetTransport::stream_in(bool request) {
  wire::StreamIn in = sink_->stream_in(request);
  in.memory = memory_;  // every stream this transport reads shares the budget
  return in;
}

void NetTransport::send_failed(const Endpoint &to, const char *why) {
  ++stats_.udp_send_errors;
  if (sink_) sink_->on_transport_error("Failed to send UDP packet to=" + protocol::to_string(to) + ": " + why);
}

void NetTransport::accept_failed(const char *why) {
  ++stats_.accept_errors;
  if (sink_) sink_->on_transport_error(std::string("Error accepting TCP connection: ") + why);
}

// ---------------------------------------------------------------------------- TCP plumbing

void NetTransport::drop(Conn *c) {
  if (c->owner != this) return;
  if (c->kind == Conn::Kind::PacketOut) {
    packets_out_.erase(c);
  } else if (c->inbound) {
    inbound_.erase(c->id);
  } else {
    outbound_.erase(c->id);
  }
  if (c->charged) {
    memory_->used -= c->charged;
    c->charged = 0;
    Bytes().swap(c->pkt);
  }
  if (c->counted) {
    c->counted = false;
    --reading_;
  }
  if (c->pending) {
    c->pending = false;
    pending_.erase(c->id);
  }
  if (c->has_deadline) {
    deadlines_.erase({c->deadline, c});
    c->has_deadline = false;
  }
  c->owner = nullptr;
  c->reader.reset();  // gives its memory back to memory_ now, not when libuv frees c
  uv_close(handle(&c->h), [](uv_handle_t *h) { delete static_cast<Conn *>(h->data); });
  if (!closed_) rearm();
}

void NetTransport::set_deadline(Conn *c, Time t) {
  if (c->has_deadline) deadlines_.erase({c->deadline, c});
  c->deadline = t;
  c->has_deadline = true;
  deadlines_.insert({t, c});
  rearm();
}

void NetTransport::rearm() {
  if (deadlines_.empty()) {
    deadline_timer_.stop();
  } else {
    deadline_timer_.arm_at(deadlines_.begin()->first);
  }
}

void NetTransport::on_deadline() {
  const Time now = std::chrono::steady_clock::now();
  std::vector<Conn *> expired;
  for (const auto &[at, c] : deadlines_) {
    if (at > now) break;
    expired.push_back(c);
  }
  for (Conn *c : expired) {
    if (c->owner != this) continue;  // dropped meanwhile (by a sink call of an earlier one)
    ++stats_.stream_timeouts;
    if (c->kind == Conn::Kind::PacketOut) {
      packet_send_failed(c, UV_ETIMEDOUT, c->connected ? "write" : "connect");
    } else if (c->inbound) {
      drop(c);
    } else {
      // Go's words for a dial that timed out (memberlist's join error), else ours.
      finish_outbound(c, c->connected ? make_error(Errc::Truncated, "i/o timeout talking to " + protocol::to_string(c->peer))
                                      : make_error(Errc::Network, "dial tcp " + protocol::to_string(c->peer) + ": i/o timeout"));
    }
    if (closed_) return;
  }
  rearm();
}

void NetTransport::on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  auto *c = static_cast<Conn *>(s->data);
  NetTransport *t = c->owner;
  if (!t || nread == 0) return;
  if (nread < 0) {
    if (c->inbound && c->kind == Conn::Kind::Packet) {
      if (nread == UV_EOF) {
        t->finish_packet(c);
      } else {
        t->packet_in_failed(c, t->stats_.tcp_packets_malformed, uv_strerror(static_cast<int>(nread)));
      }
    } else if (c->inbound && c->kind == Conn::Kind::Unknown) {
      t->drop(c);  // closed before it said what it carries
    } else if (c->inbound) {
      if (nread == UV_EOF && c->reader->eof() == State::Failed) {
        t->deliver_inbound(c);
      } else {
        t->drop(c);  // a plain EOF or a reset: nothing to answer
      }
    } else {
      t->finish_outbound(c, nread == UV_EOF ? make_error(Errc::Truncated, "EOF")  // io.EOF, as memberlist reports it
                                            : uv_error(static_cast<int>(nread), "read reply"));
    }
    return;
  }
  ByteView data = bytes_of(buf, nread);
  if (c->inbound && c->kind != Conn::Kind::Stream) {
    if (!c->got_bytes) {  // from the first-byte deadline to the whole exchange's
      c->got_bytes = true;
      t->set_deadline(c, c->exchange_deadline);
    }
    if (!t->read_framed(c, data) || data.empty()) return;
  }
  const State st = c->reader->feed(data);
  if (c->inbound) {
    if (!c->got_bytes) {  // from the first-byte deadline to the whole exchange's (reply included)
      c->got_bytes = true;
      t->set_deadline(c, c->exchange_deadline);
    }
    if (c->pending && !t->identify(c)) return;
  }
  if (st == State::NeedMore) return;
  (void)uv_read_stop(s);  // cannot fail
  if (c->inbound) {
    t->deliver_inbound(c);
  } else if (st == State::Done) {
    t->finish_outbound(c, std::optional<wire::StreamMessage>(c->reader->take()));
  } else {
    if (c->reader->memory_refused()) ++t->stats_.streams_over_memory;
    t->finish_outbound(c, c->reader->error());
  }
}

// ------------------------------------------------------------------------------ TCP inbound

void NetTransport::on_connection(uv_stream_t *server, int status) {
  NetTransport *t = static_cast<Listener *>(server->data)->owner;
  if (!t) return;
  if (status < 0) {
    t->accept_failed(uv_strerror(status));
    return;
  }
  auto *c = new Conn;
  if (const int rc = uv_tcp_init(t->rt_->loop(), &c->h); rc != 0) {
    delete c;
    t->accept_failed(uv_strerror(rc));
    return;
  }
  c->h.data = c;
  auto close_now = [](Conn *cc) {
    uv_close(handle(&cc->h), [](uv_handle_t *h) { delete static_cast<Conn *>(h->data); });
  };
  if (const int rc = uv_accept(server, stream(&c->h)); rc != 0) {
    t->accept_failed(uv_strerror(rc));
    close_now(c);
    return;
  }
  if (!t->sink_) {
    close_now(c);
    return;
  }
  sockaddr_storage peer;
  int len = sizeof peer;
  std::optional<Endpoint> from;
  if (uv_tcp_getpeername(&c->h, reinterpret_cast<sockaddr *>(&peer), &len) == 0) {
    from = from_sockaddr(reinterpret_cast<const sockaddr *>(&peer));
  }
  if (!from) {
    t->accept_failed("the peer's address is unknown");
    close_now(c);
    return;
  }
  if (t->pending_.size() >= static_cast<size_t>(kMaxPendingStreams)) {
    ++t->stats_.streams_evicted;
    t->drop(t->pending_.begin()->second);
  }
  c->owner = t;
  c->inbound = true;
  c->id = t->next_inbound_++;
  c->peer = std::move(*from);
  c->pending = true;
  if (t->opts_.tcp_only) c->kind = Conn::Kind::Unknown;
  t->pending_[c->id] = c;
  t->inbound_[c->id] = c;
  (void)uv_tcp_nodelay(&c->h, 1);  // latency only; a failure changes nothing else
  c->reader = std::make_unique<StreamReader>(t->stream_in(true));
  const Time accepted = std::chrono::steady_clock::now();
  c->exchange_deadline = accepted + t->opts_.tcp_timeout;
  t->set_deadline(c, accepted + std::min<protocol::Duration>(kFirstByteTimeout, t->opts_.tcp_timeout));
  if (int rc = uv_read_start(stream(&c->h), &NetTransport::on_alloc, &NetTransport::on_read); rc != 0) {
    t->drop(c);
  }
}

bool NetTransport::identify(Conn *c) {
  // Anything but a push/pull stays pending until it is delivered (a ping or a user message must
  // not escape every cap by naming its type and then stalling).
  const auto type = c->reader->message_type();
  if (type != static_cast<uint8_t>(wire::MsgType::PushPull) || c->reader->state() == State::Failed) return true;
  c->pending = false;
  pending_.erase(c->id);
  if (reading_ >= opts_.max_inbound_streams) {
    ++stats_.streams_refused;
    if (sink_) sink_->on_transport_error("Too many pending push/pull requests from=" + protocol::to_string(c->peer));
    drop(c);
    return false;
  }
  c->counted = true;
  ++reading_;
  return true;
}

void NetTransport::deliver_inbound(Conn *c) {
  if (c->counted) {
    c->counted = false;
    --reading_;
  }
  if (c->pending) {
    c->pending = false;
    pending_.erase(c->id);
  }
  if (c->reader->memory_refused()) {
    ++stats_.streams_over_memory;
    ++stats_.streams_refused;
  }
  const bool ok = c->reader->state() == State::Done;
  c->silent = !ok && c->reader->label_failure();
  if (!sink_) {
    drop(c);
    return;
  }
  if (ok) {
    sink_->on_stream(c->id, c->peer, c->reader->take());
  } else {
    sink_->on_stream(c->id, c->peer, c->reader->error());
  }
}

void NetTransport::reply_stream(protocol::ReplyStream r) {
  auto it = inbound_.find(r.id);
  if (it == inbound_.end()) return;
  Conn *c = it->second;
  if (c->silent || r.data.empty() || c->counted || c->pending) {  // still being read: no reply
    drop(c);
    return;
  }
  c->out = std::move(r.data);
  c->write_req.data = c;
  uv_buf_t b = buf_of(c->out);
  if (uv_write(&c->write_req, stream(&c->h), &b, 1, &NetTransport::on_reply_written) != 0) drop(c);
}

void NetTransport::on_reply_written(uv_write_t *req, int) {
  auto *c = static_cast<Conn *>(req->data);
  if (c->owner) c->owner->drop(c);  // written (or failed): either way the exchange is over
}

// ----------------------------------------------------------------------------- TCP outbound

void NetTransport::open_stream(protocol::OpenStream o) {
  if (closed_) return;
  sockaddr_storage ss;
  if (!to_sockaddr(o.to, o.to.ip.size() == 16, &ss)) {
    if (sink_) sink_->on_stream_result(o.id, make_error(Errc::Malformed, "cannot dial " + protocol::to_string(o.to)));
    return;
  }
  auto *c = new Conn;
  if (int rc = uv_tcp_init(rt_->loop(), &c->h); rc != 0) {
    delete c;
    if (sink_) sink_->on_stream_result(o.id, uv_error(rc, "tcp socket"));
    return;
  }
  c->h.data = c;
  c->owner = this;
  c->id = o.id;
  c->peer = o.to;
  c->expect_reply = o.expect_reply;
  c->out = std::move(o.data);
  if (opts_.tcp_only) c->out.insert(c->out.begin(), kFrameStream);
  c->connect_req.data = c;
  c->write_req.data = c;
  if (auto old = outbound_.find(c->id); old != outbound_.end()) drop(old->second);  // a stale id
  outbound_[c->id] = c;
  set_deadline(c, o.deadline);
  if (int rc = uv_tcp_connect(&c->connect_req, &c->h, reinterpret_cast<const sockaddr *>(&ss),
                              &NetTransport::on_connect);
      rc != 0) {
    finish_outbound(c, dial_error(rc, c->peer));
  }
}

void NetTransport::on_connect(uv_connect_t *req, int status) {
  auto *c = static_cast<Conn *>(req->data);
  NetTransport *t = c->owner;
  if (!t) return;
  if (status < 0) {
    if (c->kind == Conn::Kind::PacketOut) {
      t->packet_send_failed(c, status, "connect");
    } else {
      t->finish_outbound(c, dial_error(status, c->peer));
    }
    return;
  }
  c->connected = true;
  (void)uv_tcp_nodelay(&c->h, 1);  // latency only
  uv_buf_t b = buf_of(c->out);
  if (c->kind == Conn::Kind::PacketOut) {
    if (int rc = uv_write(&c->write_req, stream(&c->h), &b, 1, &NetTransport::on_packet_written); rc != 0) {
      t->packet_send_failed(c, rc, "write");
    }
    return;
  }
  if (int rc = uv_write(&c->write_req, stream(&c->h), &b, 1, &NetTransport::on_request_written); rc != 0) {
    t->finish_outbound(c, uv_error(rc, "write to " + protocol::to_string(c->peer)));
  }
}

void NetTransport::on_request_written(uv_write_t *req, int status) {
  auto *c = static_cast<Conn *>(req->data);
  NetTransport *t = c->owner;
  if (!t) return;
  if (status < 0) {
    t->finish_outbound(c, uv_error(status, "write to " + protocol::to_string(c->peer)));
    return;
  }
  Bytes().swap(c->out);
  if (!c->expect_reply) {
    t->finish_outbound(c, std::optional<wire::StreamMessage>{});
    return;
  }
  if (!t->sink_) {
    t->drop(c);
    return;
  }
  c->reader = std::make_unique<StreamReader>(t->stream_in(false));
  if (int rc = uv_read_start(stream(&c->h), &NetTransport::on_alloc, &NetTransport::on_read); rc != 0) {
    t->finish_outbound(c, uv_error(rc, "read reply"));
  }
}

void NetTransport::finish_outbound(Conn *c, wire::Result<std::optional<wire::StreamMessage>> outcome) {
  const StreamId id = c->id;
  drop(c);
  if (sink_) sink_->on_stream_result(id, std::move(outcome));
}

// ---------------------------------------------------------------------------- TCP-only mode

void NetTransport::set_advertise(const Endpoint &e) { advertise_ = protocol::to_string(e); }

bool NetTransport::read_framed(Conn *c, ByteView &data) {
  if (c->kind == Conn::Kind::Unknown) {
    const uint8_t first = data[0];
    data = data.subspan(1);
    if (first == kFrameStream) {
      c->kind = Conn::Kind::Stream;
      return true;
    }
    if (first != kFramePacket) {
      ++stats_.tcp_unknown_type;
      if (sink_) {
        sink_->on_transport_error("Unknown message type " + std::to_string(first) + " on a TCP connection from=" +
                                      protocol::to_string(c->peer) + ", closed",
                                  protocol::LogLevel::Warn);
      }
      drop(c);
      return false;
    }
    c->kind = Conn::Kind::Packet;
    c->memory_limit = sink_ ? sink_->stream_in(true).limits.max_stream_memory : 0;
    c->reader.reset();
  }
  // [len][address, len bytes][body][digest]: the address is at most 255 bytes by its format.
  const size_t most = 1 + 255 + opts_.max_tcp_packet + kDigestSize;
  const size_t head = c->pkt.empty() ? 0 : 1 + size_t{c->pkt[0]};
  const size_t allowed = c->pkt.empty() ? most : std::min(most, head + opts_.max_tcp_packet + kDigestSize);
  if (c->pkt.size() + data.size() > allowed) {
    packet_in_failed(c, stats_.tcp_packets_oversize,
                     "packet over max_tcp_packet (" + std::to_string(opts_.max_tcp_packet) + " bytes), cut off");
    return false;
  }
  if (memory_->used + data.size() > c->memory_limit) {
    ++stats_.streams_over_memory;
    packet_in_failed(c, stats_.tcp_packets_oversize, "packet over the stream memory budget (max_stream_memory), cut off");
    return false;
  }
  c->pkt.insert(c->pkt.end(), data.begin(), data.end());
  c->charged += data.size();
  memory_->used += data.size();
  return false;
}

void NetTransport::packet_in_failed(Conn *c, uint64_t &counter, const std::string &why) {
  ++counter;
  if (sink_) {
    sink_->on_transport_error("Dropped a packet received over TCP from=" + protocol::to_string(c->peer) + ": " + why,
                              protocol::LogLevel::Warn);
  }
  drop(c);
}

void NetTransport::finish_packet(Conn *c) {
  const ByteView all(c->pkt);
  if (all.empty() || all.size() < 1 + size_t{all[0]} + kDigestSize) {
    packet_in_failed(c, stats_.tcp_packets_malformed,
                     "truncated (" + std::to_string(all.size()) + " bytes after the type byte)");
    return;
  }
  const size_t alen = all[0];
  const std::string claimed(reinterpret_cast<const char *>(all.data() + 1), alen);
  const ByteView body = all.subspan(1 + alen, all.size() - 1 - alen - kDigestSize);
  const ByteView digest = all.subspan(all.size() - kDigestSize);
  const auto want = wire::md5(body);
  if (!want) {
    packet_in_failed(c, stats_.tcp_packets_bad_digest, "MD5 is not available from OpenSSL");
    return;
  }
  if (!std::equal(want->begin(), want->end(), digest.begin())) {
    packet_in_failed(c, stats_.tcp_packets_bad_digest,
                     "packet digest mismatch (" + std::to_string(body.size()) + " bytes, sender claims " + claimed + ")");
    return;
  }
  // The sender's advertised address: the TCP source port is an ephemeral one, so replies (acks)
  // must go to the claimed address, as dskit does. An IP literal and a port, no node name.
  auto from = claimed.find('/') == std::string::npos ? parse_endpoint(claimed, 0)
                                                    : wire::Result<Endpoint>(make_error(Errc::Malformed, "name"));
  if (!from || from->port == 0) {
    packet_in_failed(c, stats_.tcp_packets_malformed, "sender address '" + claimed + "' is not ip:port");
    return;
  }
  ++stats_.tcp_packets_received;
  if (sink_) sink_->on_packet(*from, body);
  drop(c);  // no-op when the sink closed this transport meanwhile
}

void NetTransport::send_tcp_packet(const Endpoint &to, ByteView data) {
  if (packets_out_.size() >= kMaxPacketConns) {
    ++stats_.tcp_packet_send_dropped;
    report_drop(to, "Failed to send packet over TCP", std::to_string(kMaxPacketConns) + " connections in flight",
                "packets");
    return;
  }
  sockaddr_storage ss;
  const auto digest = wire::md5(data);
  if (advertise_.size() > 255 || !to_sockaddr(to, to.ip.size() == 16, &ss) || !digest) {
    ++stats_.tcp_packet_send_errors;
    if (sink_) {
      sink_->on_transport_error("Failed to send packet over TCP to=" + protocol::to_string(to) + ": " +
                                (digest ? "bad address" : "MD5 is not available from OpenSSL"));
    }
    return;
  }
  auto *c = new Conn;
  if (int rc = uv_tcp_init(rt_->loop(), &c->h); rc != 0) {
    delete c;
    ++stats_.tcp_packet_send_errors;
    if (sink_) sink_->on_transport_error("Failed to send packet over TCP to=" + protocol::to_string(to) + ": " + uv_strerror(rc));
    return;
  }
  c->h.data = c;
  c->owner = this;
  c->kind = Conn::Kind::PacketOut;
  c->peer = to;
  c->out.reserve(2 + advertise_.size() + data.size() + digest->size());
  c->out.push_back(kFramePacket);
  c->out.push_back(static_cast<uint8_t>(advertise_.size()));
  c->out.insert(c->out.end(), advertise_.begin(), advertise_.end());
  c->out.insert(c->out.end(), data.begin(), data.end());
  c->out.insert(c->out.end(), digest->begin(), digest->end());
  c->connect_req.data = c;
  c->write_req.data = c;
  packets_out_.insert(c);
  set_deadline(c, std::chrono::steady_clock::now() + opts_.tcp_timeout);
  if (int rc = uv_tcp_connect(&c->connect_req, &c->h, reinterpret_cast<const sockaddr *>(&ss), &NetTransport::on_connect);
      rc != 0) {
    packet_send_failed(c, rc, "connect");
  }
}

void NetTransport::packet_send_failed(Conn *c, int uv_status, const char *what) {
  ++stats_.tcp_packet_send_errors;
  const Endpoint to = c->peer;
  drop(c);
  if (!sink_) return;
  // A refused connection is what a node that stopped answers with: debug, as dskit logs it.
  sink_->on_transport_error("Failed to send packet over TCP: " + sys_error(uv_status, "dial tcp " + protocol::to_string(to), what).message,
                            uv_status == UV_ECONNREFUSED ? protocol::LogLevel::Debug : protocol::LogLevel::Warn);
}

void NetTransport::on_packet_written(uv_write_t *req, int status) {
  auto *c = static_cast<Conn *>(req->data);
  NetTransport *t = c->owner;
  if (!t) return;
  if (status < 0) {
    t->packet_send_failed(c, status, "write");
    return;
  }
  ++t->stats_.tcp_packets_sent;
  t->drop(c);  // the close sends FIN after the written bytes: the receiver reads to EOF
}

}  // namespace memberlist::net
