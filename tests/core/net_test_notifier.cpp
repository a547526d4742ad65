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
using memberlist::net::NotifyRunners;

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

// ---- external pools: the embedder's runners run the notifications (NotifyPool::external)

TEST(NotifyExternal, OnlyBeforeANotifierAndOnlyOnce) {
  NotifyPool pool;
  auto runners = pool.external(nullptr);
  ASSERT_NE(runners, nullptr);
  EXPECT_EQ(pool.external(nullptr), nullptr);  // once
  NotifyPool used;
  Notifier n(used, 4, nullptr);
  EXPECT_EQ(used.external(nullptr), nullptr);  // a notifier may already have started a thread
}

TEST(NotifyExternal, RunsOnlyOnTheRunnersItAsksForInOrder) {
  NotifyPool pool;
  std::atomic<int> wakes{0};
  auto runners = pool.external([&] { ++wakes; });
  ASSERT_NE(runners, nullptr);
  Notifier n(pool, 4, nullptr);
  std::vector<int> seen;  // written by the runner only, read after it returned
  std::atomic<bool> off_runner{false};
  std::thread::id runner_id;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(n.post([&, i] {
      if (std::this_thread::get_id() != runner_id) off_runner = true;
      seen.push_back(i);
    }));
  }
  // The first post asked for one runner; the rest queued behind it. Nothing ran, no thread.
  EXPECT_EQ(pool.wanted(), 1u);
  EXPECT_EQ(wakes.load(), 1);
  EXPECT_EQ(runners->take_wanted(), 1u);
  EXPECT_EQ(runners->take_wanted(), 0u);
  EXPECT_EQ(pool.threads(), 0u);
  EXPECT_TRUE(seen.empty());
  bool open = false;
  std::thread r([&] {
    runner_id = std::this_thread::get_id();
    open = runners->run();  // 200 callbacks: more than one turn (64) of one notifier
  });
  r.join();
  EXPECT_TRUE(open);
  ASSERT_EQ(seen.size(), 200u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_FALSE(off_runner.load());
  EXPECT_EQ(runners->take_wanted(), 0u);  // a runner putting its notifier back asks for no other
  // With nothing queued the next post asks again.
  ASSERT_TRUE(n.post([] {}));
  EXPECT_EQ(runners->take_wanted(), 1u);
  EXPECT_TRUE(runners->run());
}

TEST(NotifyExternal, ABlockedRunnerHoldsUpOnlyItsNode) {
  NotifyPool pool;
  auto runners = pool.external(nullptr);
  Notifier blocked(pool, 4, nullptr), other(pool, 4, nullptr);
  Gate gate;
  std::atomic<int> after{0}, ran{0};
  ASSERT_TRUE(blocked.post([&] { gate.wait(); }));
  ASSERT_EQ(runners->take_wanted(), 1u);
  std::thread r1([&] { EXPECT_TRUE(runners->run()); });
  ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
  // More for the blocked node waits behind its callback in flight: no runner asked for.
  ASSERT_TRUE(blocked.post([&] { ++after; }));
  EXPECT_EQ(runners->take_wanted(), 0u);
  // Another node's work asks for a runner of its own, which runs it while r1 is still blocked.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(other.post([&] { ++ran; }));
  ASSERT_EQ(runners->take_wanted(), 1u);
  std::thread r2([&] { EXPECT_TRUE(runners->run()); });
  r2.join();
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(after.load(), 0);
  EXPECT_EQ(pool.threads(), 1u);  // r1, inside run()
  gate.release();
  r1.join();
  EXPECT_EQ(after.load(), 1);
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(NotifyExternal, ARunnerCannotRunOthersFromACallback) {
  NotifyPool pool;
  auto runners = pool.external(nullptr);
  Notifier n(pool, 4, nullptr);
  bool inside = false;
  ASSERT_TRUE(n.post([&] { inside = NotifyRunners::in_run(); }));
  EXPECT_FALSE(NotifyRunners::in_run());
  EXPECT_TRUE(runners->run());
  EXPECT_TRUE(inside);  // the C API refuses ml_notify_run there (ML_ERR_IN_CALLBACK)
  EXPECT_FALSE(NotifyRunners::in_run());
}

TEST(NotifyExternal, CloseWaitsForNoRunnerAndTheHandleOutlivesThePool) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  Gate gate;
  auto pool = std::make_unique<NotifyPool>();
  std::shared_ptr<NotifyRunners> runners = pool->external(nullptr);
  auto n = std::make_unique<Notifier>(*pool, 4, observed_keep(released));
  auto unrun = std::make_unique<Notifier>(*pool, 4, nullptr);
  ASSERT_TRUE(n->post([&] { gate.wait(); }));
  ASSERT_EQ(runners->take_wanted(), 1u);
  bool open = true;
  std::thread r([&, runners] { open = runners->run(); });
  ASSERT_TRUE(wait_until([&] { return gate.entered.load(); }, 5s));
  // A runner asked for and never started: close() drops its ready notifier (no cycle, no leak).
  ASSERT_TRUE(unrun->post([] { ADD_FAILURE() << "ran after close"; }));
  EXPECT_EQ(runners->take_wanted(), 1u);
  n->stop();
  unrun->stop();
  pool->close();  // returns with r inside the callback
  pool.reset();
  n.reset();
  unrun.reset();
  EXPECT_FALSE(released->load());  // the delegates go after the callback in flight
  EXPECT_EQ(runners->take_wanted(), 0u);  // closed: nobody asked for
  gate.release();
  r.join();
  EXPECT_FALSE(open);  // the pool closed while it ran
  EXPECT_TRUE(released->load());
  EXPECT_FALSE(runners->run());  // a late runner finds it closed
}

}  // namespace
