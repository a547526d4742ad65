// The transport seam between a NodeHost and the network: what protocol::Node's effects need
// (send a datagram, open a stream, answer an inbound stream) and what the node needs to hear
// (datagrams, decoded inbound streams, outcomes of the streams it opened). Two implementations:
// NetTransport (UDP + TCP sockets, memberlist's NetTransport) and ExternalTransport (the
// embedding program moves the bytes, as Go's Config.Transport will).
//
// Everything in this header runs on the runtime's loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <uv.h>

#include "protocol/node.hpp"
#include "wire/bytes.hpp"
#include "wire/error.hpp"
#include "wire/messages.hpp"
#include "wire/stream.hpp"

namespace memberlist::net {

using protocol::Endpoint;
using protocol::StreamId;
using protocol::Time;
using wire::ByteView;
using wire::Bytes;

// A uv_timer_t that fires at an absolute steady_clock time, with millisecond resolution and never
// early: the loop's clock and steady_clock are both CLOCK_MONOTONIC, and the timeout is rounded
// up. The handle lives on the heap and is freed by its close callback, so the owner may go away
// right after close().
class Timer {
 public:
  Timer() = default;
  ~Timer();  // the timer must have been closed (or never initialised)
  Timer(const Timer &) = delete;
  Timer &operator=(const Timer &) = delete;

  wire::Status init(uv_loop_t *loop, std::function<void()> on_fire);
  // Replaces any earlier arming. grid_ms > 1 rounds the firing up to the next multiple of grid_ms
  // milliseconds of CLOCK_MONOTONIC (Runtime::timer_grid_ms): timers on one grid fire together.
  void arm_at(Time t, uint32_t grid_ms = 0);
  void stop();
  void close();
  bool armed() const { return armed_.has_value(); }

 private:
  struct Handle;
  Handle *h_ = nullptr;
  std::optional<Time> armed_;
};

// One stream message read from a connection, incrementally: a wire::StreamDecoder with the
// options the node gave (Sink::stream_in, from protocol::Node::stream_in). Held by unique_ptr.
class StreamReader {
 public:
  explicit StreamReader(wire::StreamIn in);
  StreamReader(const StreamReader &) = delete;
  StreamReader &operator=(const StreamReader &) = delete;

  wire::StreamDecoder::State feed(ByteView chunk);
  // The peer closed its side. Failed (truncated), unless nothing at all arrived (then NeedMore
  // stays: a plain EOF, which memberlist answers with silence).
  wire::StreamDecoder::State eof();
  wire::StreamDecoder::State state() const { return decoder_.state(); }
  wire::StreamMessage take() { return decoder_.take(); }
  std::optional<uint8_t> message_type() const { return decoder_.message_type(); }
  bool memory_refused() const { return decoder_.memory_refused(); }
  const wire::Error &error() const { return eof_error_ ? *eof_error_ : decoder_.error(); }
  // A label mismatch or a malformed label header: memberlist closes such a connection without a
  // word (handleConn), so no errResp is written.
  bool label_failure() const;

 private:
  wire::StreamDecoder decoder_;
  size_t received_ = 0;
  std::optional<wire::Error> eof_error_;
};

// Counters a transport keeps beyond the node's own metrics.
struct TransportStats {
  uint64_t udp_send_errors = 0;     // datagrams the kernel refused
  uint64_t udp_send_dropped = 0;    // datagrams dropped: the send queue was full (socket buffer full)
  uint64_t udp_truncated = 0;       // datagrams larger than the 65,536-byte read buffer
  uint64_t streams_refused = 0;     // inbound push/pulls refused: too many being read, or over memory
  uint64_t streams_over_memory = 0; // streams (in or out) refused by their memory bounds
  uint64_t streams_evicted = 0;     // unidentified inbound streams closed to make room for a new one
  uint64_t stream_timeouts = 0;     // inbound or outbound streams past their deadline (or first byte)
  uint64_t accept_errors = 0;
  // TCP-only transport (NetTransportOptions::tcp_only).
  uint64_t tcp_packets_sent = 0;          // packets written and closed
  uint64_t tcp_packets_received = 0;      // packets handed to the node
  uint64_t tcp_packet_send_errors = 0;    // a connect or write failed or timed out
  uint64_t tcp_packet_send_dropped = 0;   // kMaxPacketConns were already in flight
  uint64_t tcp_packets_malformed = 0;     // truncated header or digest, or a bad sender address
  uint64_t tcp_packets_bad_digest = 0;    // the MD5 did not match: dropped
  uint64_t tcp_packets_oversize = 0;      // body over max_tcp_packet: cut off
  uint64_t tcp_unknown_type = 0;          // first byte neither 1 (packet) nor 2 (stream)
  uint64_t streams_reading = 0;     // gauge: inbound push/pulls being read now
  uint64_t streams_pending = 0;     // gauge: inbound streams not (yet) known to be push/pulls
  uint64_t stream_memory = 0;       // gauge: bytes the streams being read hold
};

// Inbound streams (memberlist's handleConn counts only streams that declared a push/pull against
// its limit of 128). A connection that has not yet said what it carries (or carries something
// else: a ping, a user message) is "pending": the pending ones have a cap of their own, and
// when it is reached the oldest is closed to make room, so a flood of idle connections costs
// the flooder its own oldest sockets, never a real request, which names its type in its first
// bytes. 256: twice memberlist's push/pull limit, few enough descriptors for a default
// RLIMIT_NOFILE of 1024.
constexpr int kMaxPendingStreams = 256;
// A pending connection must send its first byte this soon (capped by tcp_timeout): memberlist's
// dialers write their request as soon as the connection is up, so a real first byte follows the
// handshake by one round trip; 3 s also covers an initial retransmission timeout (1 s) twice.
// After the first byte the whole exchange has tcp_timeout from the accept, as in memberlist.
constexpr auto kFirstByteTimeout = std::chrono::seconds(3);

class Transport {
 public:
  // What the transport tells its owner. The transport may call these from inside its own
  // methods (an immediate dial failure); the owner must cope with that re-entry.
  class Sink {
   public:
    virtual void on_packet(const Endpoint &from, ByteView data) = 0;
    // An inbound stream: its decoded request, or why it could not be decoded. The owner
    // answers with reply_stream(id, …) (it is closed at the deadline otherwise).
    virtual void on_stream(StreamId id, const Endpoint &from, wire::Result<wire::StreamMessage> request) = 0;
    // How an outbound stream (open_stream) ended.
    virtual void on_stream_result(StreamId id, wire::Result<std::optional<wire::StreamMessage>> outcome) = 0;
    // How to decode a stream to this node (protocol::Node::stream_in): `request` for an
    // inbound one, false for the reply to one it opened.
    virtual wire::StreamIn stream_in(bool request) = 0;
    // Something the transport could not do that no caller hears of otherwise (a datagram not
    // sent, a connection not accepted), in words, for the log. Counted in TransportStats too.
    // Error level unless said otherwise (a refused connection of the TCP-only transport: debug).
    virtual void on_transport_error(std::string /*what*/, protocol::LogLevel /*level*/ = protocol::LogLevel::Error) {}

   protected:
    ~Sink() = default;
  };

  virtual ~Transport() = default;
  // Start delivering to sink (until close()).
  virtual wire::Status start(Sink *sink) = 0;
  virtual void send_packet(const Endpoint &to, ByteView data) = 0;
  virtual void open_stream(protocol::OpenStream s) = 0;
  // Write data (if any) on inbound stream id and close it; a stream that is already gone is
  // ignored.
  virtual void reply_stream(protocol::ReplyStream r) = 0;
  // Closes everything now: on return no socket is open any more (the port can be bound again)
  // and the sink is never called again. Idempotent.
  virtual void close() = 0;
  virtual TransportStats stats() const = 0;
};

}  // namespace memberlist::net
