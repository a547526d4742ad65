// Notifier / NotifyPool: the queue that carries notifications off the loop thread. These tests
// pin down the contract notifier.hpp states, without a network: order, the datagram-message
// bound, stop() that never waits for user code, when the delegates (`keep`) are released, and
// how the pool grows and shrinks.
#include <condition_variable>
#include <memory>

#include "net/notifier.hpp"
#include "net_test_util.hpp"

namespace {

using namespace nettest;
using memberlist::net::Notifier;
using memberlist::net::NotifyPool;

// A gate a callback can block on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<bool> entered{false};
  void wait() {
    entered = true;
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return open; });
  }
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
};

// A `keep` whose release the test can observe.
std::shared_ptr<void> observed_keep(std::shared_ptr<std::atomic<bool>> released) {
  return std::shared_ptr<void>(new int(0), [released](void *p) {
    delete static_cast<int *>(p);
    released->store(true);
  });
}

TEST(Notifier, RunsCallbacksInOrderOneAtATimeOffTheCallingThread) {
  NotifyPool pool;
  Notifier n(pool, 4, nullptr);
  std::mutex mu;
  std::vector<int> seen;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false}, on_caller{false};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(n.post([&, i] {
      if (inside.fetch_add(1) != 0) overlapped = true;
      if (std::this_thread::get_id() == caller) on_caller = true;
      {
        std::lock_guard lk(mu);
        seen.push_back(i);
      }
      inside.fetch_sub(1);
    }));
  }
  ASSERT_TRUE(wait_until([&] { std::lock_guard lk(mu); return seen.size() == 500; }, 10s));
  for (int i = 0; i < 500; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_FALSE(overlapped.load());
  EXPECT_FALSE(on_caller.load());
  // One notifier is never served by two threads at once, so a burst needs one thread.
  EXPECT_LE(pool.threads(), 1u);
}

TEST(Notifier, RefusesADatagramMessageBeyondDepthAndCountsIt) {
  NotifyPool pool;
  Notifier n(pool, 2, nullptr);
  Gate gate;
  std::atomic<int> ran{0};
  ASSERT_TRUE(n.post([&] { gate.wait(); }));
  ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
  EXPECT_EQ(n.post_msg([&] { ++ran; }), Notifier::Offer::Queued);
  EXPECT_EQ(n.post_msg([&] { ++ran; }), Notifier::Offer::Queued);
  EXPECT_EQ(n.post_msg([&] { ++ran; }), Notifier::Offer::Full);
  EXPECT_EQ(n.dropped(), 1u);
  // Other notifications are never refused while the notifier runs.
  EXPECT_TRUE(n.post([&] { ++ran; }));
  gate.release();
  ASSERT_TRUE(wait_until([&] { return ran.load() == 3; }, 5s));
  // Once the waiting messages ran, there is room again.
  EXPECT_EQ(n.post_msg([&] { ++ran; }), Notifier::Offer::Queued);
  ASSERT_TRUE(wait_until([&] { return ran.load() == 4; }, 5s));
  EXPECT_EQ(n.dropped(), 1u);
}

TEST(Notifier, StopDoesNotWaitForTheCallbackInFlightAndDropsWhatIsQueued) {
  NotifyPool pool;
  auto released = std::make_shared<std::atomic<bool>>(false);
  Gate gate;
  std::atomic<int> after{0};
  std::atomic<bool> finished{false};
  {
    Notifier n(pool, 4, observed_keep(released));
    ASSERT_TRUE(n.post([&] {
      gate.wait();
      finished = true;
    }));
    ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
    ASSERT_TRUE(n.post([&] { ++after; }));
    EXPECT_EQ(n.post_msg([&] { ++after; }), Notifier::Offer::Queued);
    n.stop();  // returns although the callback is blocked
    EXPECT_FALSE(n.post([&] { ++after; }));
    EXPECT_EQ(n.post_msg([&] { ++after; }), Notifier::Offer::Stopped);
    // The delegates stay alive while a callback that may use them runs.
    EXPECT_FALSE(released->load());
  }  // ~Notifier with the callback still blocked
  EXPECT_FALSE(released->load());
  gate.release();
  ASSERT_TRUE(wait_until([&] { return released->load(); }, 5s));
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(after.load(), 0);
}

TEST(Notifier, StopWithNothingInFlightReleasesTheDelegatesAtOnce) {
  NotifyPool pool;
  auto released = std::make_shared<std::atomic<bool>>(false);
  Notifier n(pool, 1, observed_keep(released));
  std::atomic<int> ran{0};
  ASSERT_TRUE(n.post([&] { ++ran; }));
  ASSERT_TRUE(wait_until([&] { return ran.load() == 1; }, 5s));
  n.stop();
  // Either stop() released them, or the pool thread does as its callback ends: never later.
  ASSERT_TRUE(wait_until([&] { return released->load(); }, 5s));
}

// stop() called between two callbacks of one turn (here by a callback itself): nothing queued
// after it runs, and the delegates go once the callback that called it returns.
TEST(Notifier, StopInsideABurstEndsItAfterTheCallbackThatStopped) {
  NotifyPool pool;
  auto released = std::make_shared<std::atomic<bool>>(false);
  Notifier n(pool, 4, observed_keep(released));
  Gate gate;
  std::atomic<int> ran{0};
  std::atomic<bool> released_inside{false};
  ASSERT_TRUE(n.post([&] { gate.wait(); }));  // holds the rest back until all are queued
  for (int i = 1; i < 200; ++i) {
    ASSERT_TRUE(n.post([&, i] {
      ++ran;
      if (i == 10) {
        n.stop();
        released_inside = released->load();
      }
    }));
  }
  gate.release();
  ASSERT_TRUE(wait_until([&] { return released->load(); }, 5s));
  EXPECT_EQ(ran.load(), 10);
  EXPECT_FALSE(released_inside.load());  // not while the callback that stopped still ran
}

TEST(Notifier, ACallbackThatBlocksHoldsOneThreadNotOtherNodes) {
  NotifyPool pool;
  Notifier blocked(pool, 4, nullptr), other(pool, 4, nullptr);
  Gate gate;
  ASSERT_TRUE(blocked.post([&] { gate.wait(); }));
  ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(other.post([&] { ++ran; }));
  ASSERT_TRUE(wait_until([&] { return ran.load() == 10; }, 5s));
  EXPECT_GE(pool.threads(), 2u);
  gate.release();
}

TEST(Notifier, IdleThreadsEndAndThePoolStartsAgain) {
  NotifyPool pool;
  Notifier n(pool, 4, nullptr);
  std::atomic<int> ran{0};
  ASSERT_TRUE(n.post([&] { ++ran; }));
  ASSERT_TRUE(wait_until([&] { return ran.load() == 1; }, 5s));
  // A thread ends after a second without work.
  ASSERT_TRUE(wait_until([&] { return pool.threads() == 0; }, 10s));
  ASSERT_TRUE(n.post([&] { ++ran; }));
  ASSERT_TRUE(wait_until([&] { return ran.load() == 2; }, 5s));
}

TEST(Notifier, ClosingThePoolDoesNotWaitForABlockedCallback) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  Gate gate;
  auto pool = std::make_unique<NotifyPool>();
  auto n = std::make_unique<Notifier>(*pool, 4, observed_keep(released));
  ASSERT_TRUE(n->post([&] { gate.wait(); }));
  ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
  n->stop();
  pool->close();  // the blocked thread is detached, not joined
  pool.reset();
  n.reset();
  EXPECT_FALSE(released->load());
  gate.release();
  ASSERT_TRUE(wait_until([&] { return released->load(); }, 5s));
}

}  // namespace
