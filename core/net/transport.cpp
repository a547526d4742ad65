#include "net/transport.hpp"

#include <cstdio>
#include <cstdlib>

#include "net/runtime.hpp"

namespace memberlist::net {

// ------------------------------------------------------------------------------------- Timer

struct Timer::Handle {
  uv_timer_t timer{};
  Timer *owner = nullptr;  // null once closed
  std::function<void()> on_fire;
};

Timer::~Timer() {
  if (h_) {
    // Freeing a live handle would corrupt the loop; this is a bug in the owner.
    std::fputs("libmemberlist: net::Timer destroyed without close()\n", stderr);
    std::abort();
  }
}

wire::Status Timer::init(uv_loop_t *loop, std::function<void()> on_fire) {
  auto *h = new Handle;
  if (int rc = uv_timer_init(loop, &h->timer); rc != 0) {
    delete h;
    return uv_error(rc, "uv_timer_init");
  }
  h->timer.data = h;
  h->owner = this;
  h->on_fire = std::move(on_fire);
  h_ = h;
  return wire::Ok{};
}

void Timer::arm_at(Time t, uint32_t grid_ms) {
  if (!h_) return;
  if (armed_ && *armed_ == t) return;
  // The loop's clock counts whole milliseconds of CLOCK_MONOTONIC (the clock of steady_clock);
  // fire when it reaches ceil(t), which is never before t.
  uv_loop_t *loop = h_->timer.loop;
  uv_update_time(loop);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  uint64_t target_ms = ns <= 0 ? 0 : static_cast<uint64_t>((ns + 999999) / 1000000);
  if (grid_ms > 1) target_ms = (target_ms + grid_ms - 1) / grid_ms * grid_ms;
  const uint64_t now_ms = uv_now(loop);
  const uint64_t timeout = target_ms > now_ms ? target_ms - now_ms : 0;
  armed_ = t;
  // Fails only on a closing handle, which h_ never is.
  (void)uv_timer_start(
      &h_->timer,
      [](uv_timer_t *tm) {
        auto *h = static_cast<Handle *>(tm->data);
        if (!h->owner) return;
        h->owner->armed_.reset();
        h->on_fire();
      },
      timeout, 0);
}

void Timer::stop() {
  if (!h_) return;
  (void)uv_timer_stop(&h_->timer);  // cannot fail
  armed_.reset();
}

void Timer::close() {
  if (!h_) return;
  (void)uv_timer_stop(&h_->timer);  // cannot fail
  h_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t *>(&h_->timer),
           [](uv_handle_t *hd) { delete static_cast<Handle *>(hd->data); });
  h_ = nullptr;
  armed_.reset();
}

// ------------------------------------------------------------------------------ StreamReader

StreamReader::StreamReader(wire::StreamIn in) : decoder_(std::move(in)) {}

wire::StreamDecoder::State StreamReader::feed(ByteView chunk) {
  received_ += chunk.size();
  return decoder_.feed(chunk);
}

wire::StreamDecoder::State StreamReader::eof() {
  if (decoder_.state() != wire::StreamDecoder::State::NeedMore) return decoder_.state();
  if (received_ == 0) return wire::StreamDecoder::State::NeedMore;
  eof_error_ = wire::make_error(wire::Errc::Truncated, "stream closed before the message was complete");
  return wire::StreamDecoder::State::Failed;
}

bool StreamReader::label_failure() const {
  if (eof_error_ || decoder_.state() != wire::StreamDecoder::State::Failed) return false;
  const auto c = decoder_.error().code;
  return c == wire::Errc::LabelMismatch || c == wire::Errc::BadLabel;
}

}  // namespace memberlist::net
