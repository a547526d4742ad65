// ExternalTransport: no sockets; the embedding program moves the bytes (how Go's
// Config.Transport plugs in). The runtime still frames, decodes, bounds and times out every
// stream exactly as over TCP; the embedder only carries datagrams and byte streams.
//
// Contract (the NodeHost inputs deliver_packet/accept_stream/stream_data/stream_end are the
// other half, see node_host.hpp):
//  * send_packet(to, data): send one datagram.
//  * open_stream(id, to, deadline, data, expect_reply): dial `to`, write `data`; when expect_reply,
//    pass every byte read back to stream_data(id, …) and stream_end(id, …) at EOF or on error;
//    otherwise call stream_end(id, Ok) once `data` is written (or stream_end(id, error)). The
//    whole exchange must end by `deadline`; the runtime gives up on it then.
//  * Inbound: the embedder calls accept_stream(from) for each connection, passes what it reads
//    to stream_data(id, …), and stream_end(id, …) at EOF.
//  * Every stream id, inbound or outbound, ends with exactly one call of reply_stream(id, data)
//    (inbound only: write data, which may be empty, then close) or close_stream(id) (close
//    without writing: refused, timed out, finished, or shut down). After that call the id is
//    dead and further input for it is ignored.
// All callbacks run on the runtime's loop thread; they must not block. They may call the
// NodeHost's external-mode inputs (those only queue work).
#pragma once

#include <atomic>
#include <map>
#include <set>

#include "net/runtime.hpp"
#include "net/transport.hpp"

namespace memberlist::net {

struct ExternalCallbacks {
  std::function<void(const Endpoint &to, ByteView data)> send_packet;
  std::function<void(uint64_t id, const Endpoint &to, Time deadline, ByteView data, bool expect_reply)> open_stream;
  std::function<void(uint64_t id, ByteView data)> reply_stream;
  std::function<void(uint64_t id)> close_stream;
};

class ExternalTransport final : public Transport {
 public:
  // tcp_timeout bounds an inbound exchange; max_inbound_streams (push/pulls being read), the
  // pending streams and the memory budget as for NetTransport.
  static wire::Result<std::unique_ptr<ExternalTransport>> create(Runtime &rt, ExternalCallbacks callbacks,
                                                                 protocol::Duration tcp_timeout,
                                                                 int max_inbound_streams);
  ~ExternalTransport() override;

  // Any thread: a fresh stream id (inbound ids come from here too).
  uint64_t allocate_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // ---- embedder input (loop thread; NodeHost queues them here)
  void deliver_packet(const Endpoint &from, ByteView data);
  void accept_stream(uint64_t id, const Endpoint &from);
  void stream_data(uint64_t id, ByteView data);
  void stream_end(uint64_t id, const wire::Status &status);

  wire::Status start(Sink *sink) override;
  void send_packet(const Endpoint &to, ByteView data) override;
  void open_stream(protocol::OpenStream s) override;
  void reply_stream(protocol::ReplyStream r) override;
  void close() override;
  TransportStats stats() const override {
    TransportStats s = stats_;
    s.streams_reading = static_cast<uint64_t>(reading_);
    s.streams_pending = pending_.size();
    s.stream_memory = memory_->used;
    return s;
  }

 private:
  struct Stream {
    bool inbound = false;
    StreamId node_id = 0;  // outbound: the node's id
    Endpoint peer;
    bool expect_reply = false;
    bool counted = false;    // inbound push/pull, still being read
    bool pending = false;    // inbound, in pending_ (not known to be a push/pull)
    bool got_bytes = false;  // inbound: the first byte arrived
    Time exchange_deadline{};
    bool delivered = false;  // inbound, handed to the node: waiting for its reply
    bool silent = false;
    Time deadline{};
    std::unique_ptr<StreamReader> reader;
  };

  ExternalTransport(ExternalCallbacks cb, protocol::Duration tcp_timeout, int max_inbound);
  void forget(uint64_t id);  // erase without telling the embedder
  void end_stream(uint64_t id, std::optional<ByteView> reply);  // reply_stream or close_stream, then forget
  void finish_outbound(uint64_t id, wire::Result<std::optional<wire::StreamMessage>> outcome);
  void deliver_inbound(uint64_t id, Stream &s);
  void set_deadline(uint64_t id, Stream &s, Time t);
  wire::StreamIn stream_in(bool request);  // the node's, with this transport's memory budget
  bool identify(uint64_t id, Stream &s);  // as NetTransport::identify
  void on_deadline();
  void rearm();

  ExternalCallbacks cb_;
  protocol::Duration tcp_timeout_;
  int max_inbound_;
  Sink *sink_ = nullptr;
  bool closed_ = false;
  std::atomic<uint64_t> next_id_{1};
  std::map<uint64_t, Stream> streams_;
  std::map<StreamId, uint64_t> by_node_id_;  // outbound: node id -> stream id
  int reading_ = 0;
  std::set<uint64_t> pending_;  // ids in accept order (allocate_id is monotonic)
  std::shared_ptr<wire::StreamMemory> memory_ = std::make_shared<wire::StreamMemory>();
  std::set<std::pair<Time, uint64_t>> deadlines_;
  Timer timer_;
  TransportStats stats_;
};

}  // namespace memberlist::net
