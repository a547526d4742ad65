#include "net/external_transport.hpp"

namespace memberlist::net {

using wire::Errc;
using wire::make_error;
using State = wire::StreamDecoder::State;

ExternalTransport::ExternalTransport(ExternalCallbacks cb, protocol::Duration tcp_timeout, int max_inbound)
    : cb_(std::move(cb)), tcp_timeout_(tcp_timeout), max_inbound_(max_inbound < 1 ? 1 : max_inbound) {}

wire::Result<std::unique_ptr<ExternalTransport>> ExternalTransport::create(Runtime &rt, ExternalCallbacks callbacks,
                                                                           protocol::Duration tcp_timeout,
                                                                           int max_inbound_streams) {
  if (!callbacks.send_packet || !callbacks.open_stream || !callbacks.reply_stream || !callbacks.close_stream) {
    return make_error(Errc::OutOfRange, "external transport: every callback must be set");
  }
  std::unique_ptr<ExternalTransport> t(new ExternalTransport(std::move(callbacks), tcp_timeout, max_inbound_streams));
  if (auto st = t->timer_.init(rt.loop(), [p = t.get()] { p->on_deadline(); }); !st) {
    t->closed_ = true;
    return st.error();
  }
  return t;
}

ExternalTransport::~ExternalTransport() {
  if (!closed_) close();
}

wire::Status ExternalTransport::start(Sink *sink) {
  if (closed_) return make_error(Errc::OutOfRange, "transport is closed");
  sink_ = sink;
  return wire::Ok{};
}

void ExternalTransport::close() {
  if (closed_) return;
  closed_ = true;
  sink_ = nullptr;
  std::vector<uint64_t> ids;
  for (const auto &[id, s] : streams_) ids.push_back(id);
  for (uint64_t id : ids) end_stream(id, std::nullopt);
  timer_.close();
}

// ------------------------------------------------------------------------------- plumbing

void ExternalTransport::forget(uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream &s = it->second;
  if (s.counted) --reading_;
  if (s.pending) pending_.erase(id);
  if (!s.inbound) by_node_id_.erase(s.node_id);
  deadlines_.erase({s.deadline, id});
  streams_.erase(it);
  if (!closed_) rearm();
}

void ExternalTransport::end_stream(uint64_t id, std::optional<ByteView> reply) {
  if (!streams_.count(id)) return;
  forget(id);
  if (reply) {
    cb_.reply_stream(id, *reply);
  } else {
    cb_.close_stream(id);
  }
}

void ExternalTransport::rearm() {
  if (deadlines_.empty()) {
    timer_.stop();
  } else {
    timer_.arm_at(deadlines_.begin()->first);
  }
}

void ExternalTransport::on_deadline() {
  const Time now = std::chrono::steady_clock::now();
  std::vector<uint64_t> expired;
  for (const auto &[at, id] : deadlines_) {
    if (at > now) break;
    expired.push_back(id);
  }
  for (uint64_t id : expired) {
    auto it = streams_.find(id);
    if (it == streams_.end()) continue;
    ++stats_.stream_timeouts;
    if (it->second.inbound) {
      end_stream(id, std::nullopt);
    } else {
      finish_outbound(id, make_error(Errc::Truncated, "i/o timeout talking to " + protocol::to_string(it->second.peer)));
    }
    if (closed_) return;
  }
  rearm();
}

void ExternalTransport::finish_outbound(uint64_t id, wire::Result<std::optional<wire::StreamMessage>> outcome) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const StreamId node_id = it->second.node_id;
  end_stream(id, std::nullopt);
  if (sink_) sink_->on_stream_result(node_id, std::move(outcome));
}

wire::StreamIn ExternalTransport::stream_in(bool request) {
  wire::StreamIn in = sink_->stream_in(request);
  in.memory = memory_;  // every stream this transport reads shares the budget
  return in;
}

void ExternalTransport::set_deadline(uint64_t id, Stream &s, Time t) {
  deadlines_.erase({s.deadline, id});
  s.deadline = t;
  deadlines_.insert({t, id});
  rearm();
}

bool ExternalTransport::identify(uint64_t id, Stream &s) {
  const auto type = s.reader->message_type();
  if (type != static_cast<uint8_t>(wire::MsgType::PushPull) || s.reader->state() == State::Failed) return true;
  s.pending = false;
  pending_.erase(id);
  if (reading_ >= max_inbound_) {
    ++stats_.streams_refused;
    const std::string line = "Too many pending push/pull requests from=" + protocol::to_string(s.peer);
    end_stream(id, std::nullopt);
    if (sink_) sink_->on_transport_error(line);
    return false;
  }
  s.counted = true;
  ++reading_;
  return true;
}

void ExternalTransport::deliver_inbound(uint64_t id, Stream &s) {
  if (s.counted) {
    s.counted = false;
    --reading_;
  }
  if (s.pending) {
    s.pending = false;
    pending_.erase(id);
  }
  if (s.reader->memory_refused()) {
    ++stats_.streams_over_memory;
    ++stats_.streams_refused;
  }
  s.delivered = true;
  const bool ok = s.reader->state() == State::Done;
  s.silent = !ok && s.reader->label_failure();
  const Endpoint from = s.peer;
  if (ok) {
    sink_->on_stream(id, from, s.reader->take());
  } else {
    sink_->on_stream(id, from, s.reader->error());
  }
}

// --------------------------------------------------------------------------------- input

void ExternalTransport::deliver_packet(const Endpoint &from, ByteView data) {
  if (sink_) sink_->on_packet(from, data);
}

void ExternalTransport::accept_stream(uint64_t id, const Endpoint &from) {
  if (closed_ || !sink_ || streams_.count(id)) return;  // shut down, or a duplicate id: keep the first
  if (pending_.size() >= static_cast<size_t>(kMaxPendingStreams)) {
    ++stats_.streams_evicted;
    end_stream(*pending_.begin(), std::nullopt);
  }
  Stream s;
  s.inbound = true;
  s.peer = from;
  s.pending = true;
  const Time accepted = std::chrono::steady_clock::now();
  s.exchange_deadline = accepted + tcp_timeout_;
  s.deadline = accepted + std::min<protocol::Duration>(kFirstByteTimeout, tcp_timeout_);
  s.reader = std::make_unique<StreamReader>(stream_in(true));
  pending_.insert(id);
  deadlines_.insert({s.deadline, id});
  streams_.emplace(id, std::move(s));
  rearm();
}

void ExternalTransport::stream_data(uint64_t id, ByteView data) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !sink_) return;
  Stream &s = it->second;
  if (!s.reader || s.reader->state() != State::NeedMore || data.empty()) return;
  const State st = s.reader->feed(data);
  if (s.inbound) {
    if (!s.got_bytes) {  // from the first-byte deadline to the whole exchange's (reply included)
      s.got_bytes = true;
      set_deadline(id, s, s.exchange_deadline);
    }
    if (s.pending && !identify(id, s)) return;
  } else if (st == State::Failed && s.reader->memory_refused()) {
    ++stats_.streams_over_memory;
  }
  if (st == State::NeedMore) return;
  if (s.inbound) {
    deliver_inbound(id, s);
  } else if (st == State::Done) {
    finish_outbound(id, std::optional<wire::StreamMessage>(s.reader->take()));
  } else {
    finish_outbound(id, s.reader->error());
  }
}

void ExternalTransport::stream_end(uint64_t id, const wire::Status &status) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !sink_) return;
  Stream &s = it->second;
  if (s.inbound) {
    if (s.delivered) return;  // the node's reply will end it
    if (status && s.reader->eof() == State::Failed) {
      deliver_inbound(id, s);
    } else {
      end_stream(id, std::nullopt);  // a plain EOF or an error: nothing to answer
    }
    return;
  }
  if (!status) {
    finish_outbound(id, status.error());
  } else if (!s.expect_reply) {
    finish_outbound(id, std::optional<wire::StreamMessage>{});
  } else {
    finish_outbound(id, make_error(Errc::Truncated, "EOF"));  // io.EOF, as memberlist reports it
  }
}

// -------------------------------------------------------------------------------- output

void ExternalTransport::send_packet(const Endpoint &to, ByteView data) {
  if (!closed_) cb_.send_packet(to, data);
}

void ExternalTransport::open_stream(protocol::OpenStream o) {
  if (closed_) return;
  const uint64_t id = allocate_id();
  Stream s;
  s.node_id = o.id;
  s.peer = o.to;
  s.expect_reply = o.expect_reply;
  s.deadline = o.deadline;
  if (o.expect_reply && sink_) s.reader = std::make_unique<StreamReader>(stream_in(false));
  if (auto old = by_node_id_.find(o.id); old != by_node_id_.end()) end_stream(old->second, std::nullopt);
  by_node_id_[o.id] = id;
  deadlines_.insert({s.deadline, id});
  streams_.emplace(id, std::move(s));
  rearm();
  cb_.open_stream(id, o.to, o.deadline, o.data, o.expect_reply);
}

void ExternalTransport::reply_stream(protocol::ReplyStream r) {
  auto it = streams_.find(r.id);
  if (it == streams_.end() || !it->second.inbound) return;
  if (it->second.silent) {
    end_stream(r.id, std::nullopt);
  } else {
    end_stream(r.id, ByteView(r.data));
  }
}

}  // namespace memberlist::net
