// core/net: whole clusters over real loopback sockets — join, failure detection, leave,
// metadata, user messages, encryption, labels, 50 nodes on one runtime, IPv6, calls from many
// threads, callbacks that call back, and the external-transport mode.
#include <sys/resource.h>

#include <fstream>

#include "net_test_util.hpp"

using namespace nettest;
using memberlist::net::Runtime;

namespace {

class Cluster : public RuntimeTest {
 protected:
  TestNode &add(protocol::Config cfg, std::shared_ptr<Runtime> on = nullptr) {
    nodes.push_back(std::make_unique<TestNode>(start_node(std::move(cfg), on ? on : rt)));
    EXPECT_TRUE(nodes.back()->host);
    return *nodes.back();
  }
  std::vector<TestNode *> all() {
    std::vector<TestNode *> v;
    for (auto &n : nodes) v.push_back(n.get());
    return v;
  }
  // n nodes on 127.0.0.<base+i>, all joined through the first.
  void make_cluster(int n, int base, const std::function<void(protocol::Config &)> &tweak = nullptr) {
    for (int i = 0; i < n; ++i) {
      auto cfg = fast_config("n" + std::to_string(i), "127.0.0." + std::to_string(base + i));
      if (tweak) tweak(cfg);
      add(cfg);
    }
    for (int i = 1; i < n; ++i) {
      auto j = nodes[static_cast<size_t>(i)]->host->join({nodes[0]->host->advertise()});
      ASSERT_TRUE(j.ok()) << j.error().to_string();
      EXPECT_EQ(*j, 1);
    }
  }

};

TEST_F(Cluster, TwoNodesJoin) {
  make_cluster(2, 40);
  EXPECT_TRUE(wait_until([&] { return converged(all(), 2); }, 5000ms));
  // Events are notifications, delivered off the loop right after the state change.
  EXPECT_TRUE(wait_until([&] { return nodes[0]->rec->joins("n1") >= 1 && nodes[1]->rec->joins("n0") >= 1; }, 5000ms));
  auto m = nodes[0]->host->member("n1");
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->addr, (wire::Bytes{127, 0, 0, 41}));
  EXPECT_EQ((*m)->port, nodes[1]->host->port());
  // A ping through the API measures a round trip.
  auto rtt = nodes[0]->host->ping("n1", nodes[1]->host->advertise());
  ASSERT_TRUE(rtt.ok()) << rtt.error().to_string();
  EXPECT_GT(rtt->count(), 0);
}

TEST_F(Cluster, FiveNodesJoinAndSeeEachOther) {
  make_cluster(5, 50);
  EXPECT_TRUE(wait_until([&] { return converged(all(), 5); }, 8000ms));
  for (auto &n : nodes) {
    auto ms = n->host->members();
    ASSERT_TRUE(ms.ok());
    for (const auto &m : *ms) EXPECT_EQ(m.state, wire::NodeState::Alive);
  }
}

TEST_F(Cluster, KilledNodeIsDetectedDead) {
  make_cluster(4, 60);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 4); }, 8000ms));
  ASSERT_TRUE(nodes[3]->host->shutdown().ok());  // no leave: a crash as the others see it
  const auto start = Clock::now();
  EXPECT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 3; ++i) {
          if (state_of(*nodes[static_cast<size_t>(i)]->host, "n3") != wire::NodeState::Dead) return false;
        }
        return true;
      },
      15000ms));
  for (int i = 0; i < 3; ++i) {
    auto &rec = *nodes[static_cast<size_t>(i)]->rec;
    EXPECT_TRUE(wait_until([&] { return rec.left("n3") == wire::NodeState::Dead; }, 5000ms)) << "node " << i;
  }
  std::printf("dead detected after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()));
}

TEST_F(Cluster, LeavingNodeIsMarkedLeft) {
  make_cluster(3, 70);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 3); }, 8000ms));
  auto st = nodes[2]->host->leave(scaled(5000ms));
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  ASSERT_TRUE(nodes[2]->host->shutdown().ok());
  EXPECT_TRUE(wait_until(
      [&] {
        return state_of(*nodes[0]->host, "n2") == wire::NodeState::Left &&
               state_of(*nodes[1]->host, "n2") == wire::NodeState::Left;
      },
      5000ms));
  EXPECT_TRUE(wait_until([&] { return nodes[0]->rec->left("n2") == wire::NodeState::Left; }, 5000ms));
  EXPECT_EQ(members_of(*nodes[0]->host), 2);
}

TEST_F(Cluster, MetadataUpdateReachesPeers) {
  make_cluster(3, 80);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 3); }, 8000ms));
  nodes[1]->rec->set_meta(wire::to_bytes("role=db"));
  auto st = nodes[1]->host->update_node(scaled(5000ms));
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(wait_until(
      [&] {
        auto m0 = nodes[0]->host->member("n1");
        auto m2 = nodes[2]->host->member("n1");
        return m0.ok() && *m0 && (*m0)->meta == wire::to_bytes("role=db") && m2.ok() && *m2 &&
               (*m2)->meta == wire::to_bytes("role=db");
      },
      5000ms));
  EXPECT_TRUE(wait_until([&] { return nodes[0]->rec->update("n1") == wire::to_bytes("role=db"); }, 5000ms));
}

TEST_F(Cluster, UserMessagesBothWays) {
  make_cluster(2, 90);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 2); }, 5000ms));
  auto &a = *nodes[0];
  auto &b = *nodes[1];
  ASSERT_TRUE(a.host->send_reliable(b.host->advertise(), wire::to_bytes("reliable a->b")).ok());
  ASSERT_TRUE(b.host->send_reliable(a.host->advertise(), wire::to_bytes("reliable b->a")).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("reliable a->b") && a.rec->got_msg("reliable b->a"); }, 3000ms));
  // Best effort is UDP: resend until seen (loopback drops nothing in practice).
  EXPECT_TRUE(wait_until(
      [&] {
        (void)a.host->send_best_effort(b.host->advertise(), wire::to_bytes("udp a->b"));
        (void)b.host->send_best_effort(a.host->advertise(), wire::to_bytes("udp b->a"));
        return b.rec->got_msg("udp a->b") && a.rec->got_msg("udp b->a");
      },
      3000ms));
  // Gossiped user broadcasts too.
  ASSERT_TRUE(a.host->queue_broadcast(wire::to_bytes("gossip a")).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("gossip a"); }, 3000ms));
  // A large reliable message (several TCP reads on the receiving side).
  std::string big(300000, 'x');
  big[0] = 'B';
  ASSERT_TRUE(a.host->send_reliable(b.host->advertise(), wire::to_bytes(big)).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg(big); }, 3000ms));
  // To a port nobody listens on: an error, not a hang.
  auto dead = b.host->advertise();
  dead.ip = {127, 0, 0, 99};
  EXPECT_FALSE(a.host->send_reliable(dead, wire::to_bytes("nobody")).ok());
}

TEST_F(Cluster, EncryptedClusterKeepsAWrongKeyOut) {
  const wire::Bytes key(16, 0x42);
  make_cluster(3, 100, [&](protocol::Config &c) { c.secret_key = key; });
  ASSERT_TRUE(wait_until([&] { return converged(all(), 3); }, 8000ms));
  auto cfg = fast_config("intruder", "127.0.0.110");
  cfg.secret_key = wire::Bytes(16, 0x17);
  auto &x = add(cfg);
  auto j = x.host->join({nodes[0]->host->advertise()});
  EXPECT_FALSE(j.ok());
  // And a node without any key is refused as well.
  auto &y = add(fast_config("plain", "127.0.0.111"));
  EXPECT_FALSE(y.host->join({nodes[0]->host->advertise()}).ok());
  // Give gossip time to (not) spread them, then check nobody let them in.
  ASSERT_TRUE(nodes[1]->host->send_reliable(nodes[2]->host->advertise(), wire::to_bytes("sync")).ok());
  EXPECT_FALSE(wait_until(
      [&] {
        for (int i = 0; i < 3; ++i) {
          if (members_of(*nodes[static_cast<size_t>(i)]->host) != 3) return true;
        }
        return members_of(*x.host) != 1 || members_of(*y.host) != 1;
      },
      300ms));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(state_of(*nodes[static_cast<size_t>(i)]->host, "intruder"), std::nullopt);
}

TEST_F(Cluster, LabelsSeparateClusters) {
  auto blue = [](protocol::Config &c) { c.label = "blue"; };
  make_cluster(2, 120, blue);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 2); }, 5000ms));
  auto cfg = fast_config("green", "127.0.0.125");
  cfg.label = "green";
  auto &g = add(cfg);
  EXPECT_FALSE(g.host->join({nodes[0]->host->advertise()}).ok());
  auto &u = add(fast_config("unlabeled", "127.0.0.126"));
  EXPECT_FALSE(u.host->join({nodes[0]->host->advertise()}).ok());
  // A second blue node joins fine.
  auto cfg2 = fast_config("blue2", "127.0.0.127");
  cfg2.label = "blue";
  auto &b2 = add(cfg2);
  ASSERT_TRUE(b2.host->join({nodes[1]->host->advertise()}).ok());
  EXPECT_TRUE(wait_until([&] { return members_of(*nodes[0]->host) == 3 && members_of(*b2.host) == 3; }, 5000ms));
  EXPECT_EQ(state_of(*nodes[0]->host, "green"), std::nullopt);
  EXPECT_EQ(state_of(*nodes[0]->host, "unlabeled"), std::nullopt);
  EXPECT_EQ(members_of(*g.host), 1);
}

// 50 nodes, one runtime (one loop thread), distinct loopback addresses. Bound: everyone sees all
// 50 alive within 20 s (x ML_TEST_TIMEOUT_SCALE); it takes well under 2 s unsanitised.
TEST_F(Cluster, FiftyNodesOnOneRuntimeConverge) {
  constexpr int kNodes = 50;
  const int before = thread_count();
  auto slower = [](protocol::Config &c) {
    c.probe_interval = timer(300ms);
    c.probe_timeout = timer(150ms);
    c.gossip_interval = timer(50ms);
    c.push_pull_interval = timer(3s);  // x2 above 32 nodes (pushPullScale)
  };
  const auto start = Clock::now();
  for (int i = 0; i < kNodes; ++i) {
    auto cfg = fast_config("n" + std::to_string(i), "127.0.1." + std::to_string(10 + i));
    slower(cfg);
    add(cfg);
    ASSERT_TRUE(nodes.back()->host);
  }
  EXPECT_EQ(thread_count(), before);  // no thread per node
  // Join in parallel through the async form: no thread per join either.
  std::atomic<int> joined{0}, failed{0};
  for (int i = 1; i < kNodes; ++i) {
    ASSERT_TRUE(nodes[static_cast<size_t>(i)]
                    ->host
                    ->join_async({nodes[0]->host->advertise()},
                                 [&](const protocol::OpDone &d) { ++(d.status ? joined : failed); })
                    .ok());
  }
  ASSERT_TRUE(wait_until([&] { return joined + failed == kNodes - 1; }, 10000ms));
  EXPECT_EQ(failed.load(), 0);
  const bool ok = wait_until([&] { return converged(all(), kNodes); }, 20000ms);
  uint64_t send_errors = 0, truncated = 0, sent = 0, received = 0;
  for (auto &n : nodes) {
    auto st = n->host->transport_stats();
    auto m = n->host->metrics();
    if (st) send_errors += st->udp_send_errors, truncated += st->udp_truncated;
    if (m) sent += m->udp_sent, received += m->udp_received;
  }
  std::printf("50 nodes converged in %lld ms (udp sent %llu, received %llu, send errors %llu)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()),
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(send_errors));
  EXPECT_EQ(send_errors, 0u);
  EXPECT_EQ(truncated, 0u);
  EXPECT_TRUE(ok);
  if (!ok) {
    for (auto &n : nodes) {
      auto m = n->host->metrics();
      std::printf("%s: %d members, udp sent %llu recv %llu dropped %llu\n", n->host->name().c_str(),
                  members_of(*n->host), (unsigned long long)m->udp_sent, (unsigned long long)m->udp_received,
                  (unsigned long long)m->packets_dropped);
    }
  }
}

// No busy polling: a quiet cluster of 10 nodes on one runtime costs next to no CPU while it only
// probes (one timer per node, the loop asleep in epoll in between).
TEST_F(Cluster, QuietClusterDoesNotSpin) {
  make_cluster(10, 170, [](protocol::Config &c) {
    c.probe_interval = 500ms;
    c.probe_timeout = 200ms;
    c.gossip_interval = 200ms;
    // Gossip alone can miss a node in a small cluster (memberlist's retransmit limit is low at
    // n = 10); anti-entropy makes convergence certain.
    c.push_pull_interval = 1s;
  });
  const bool ok = wait_until([&] { return converged(all(), 10); }, 8000ms);
  if (!ok) {
    for (auto &n : nodes) {
      auto ms = n->host->members();
      std::string names;
      for (auto &m : *ms) names += m.name + " ";
      std::printf("%s sees %zu: %s\n", n->host->name().c_str(), ms->size(), names.c_str());
    }
  }
  ASSERT_TRUE(ok);
  auto cpu = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return std::chrono::seconds(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           std::chrono::microseconds(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  };
  const auto cpu0 = cpu();
  const auto wall0 = Clock::now();
  // Sleep, not poll: this measures the runtime alone.
  std::this_thread::sleep_for(1s);
  const auto used = cpu() - cpu0;
  const auto wall = Clock::now() - wall0;
  std::printf("10 quiet nodes: %lld us CPU in %lld ms\n", static_cast<long long>(used.count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()));
  EXPECT_LT(used, scaled(150ms));  // a spinning loop would burn ~1 s
}

TEST_F(Cluster, IPv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "[::1] cannot be bound here";
  add(fast_config("v6a", "::1"));
  add(fast_config("v6b", "::1"));
  ASSERT_TRUE(nodes[0]->host && nodes[1]->host);
  EXPECT_EQ(nodes[0]->host->advertise().ip.size(), 16u);
  auto peer = net::parse_endpoint("[::1]:" + std::to_string(nodes[0]->host->port()), 0);
  ASSERT_TRUE(peer.ok());
  auto j = nodes[1]->host->join({*peer});
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(wait_until([&] { return converged(all(), 2); }, 5000ms));
  ASSERT_TRUE(nodes[0]->host->send_reliable(nodes[1]->host->advertise(), wire::to_bytes("over v6")).ok());
  EXPECT_TRUE(wait_until([&] { return nodes[1]->rec->got_msg("over v6"); }, 3000ms));
}

// Several threads hammer the API at once; under ThreadSanitizer this shows no race, and the
// deadline shows no deadlock.
TEST_F(Cluster, BurstOfCallsFromManyThreads) {
  make_cluster(3, 130);
  ASSERT_TRUE(wait_until([&] { return converged(all(), 3); }, 8000ms));
  std::atomic<int> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto &me = *nodes[static_cast<size_t>(t % 3)];
      auto &peer = *nodes[static_cast<size_t>((t + 1) % 3)];
      for (int i = 0; i < 40 && !stop; ++i) {
        if (!me.host->members().ok()) ++errors;
        if (!me.host->metrics().ok()) ++errors;
        if (!me.host->health_score().ok()) ++errors;
        if (!me.host->send_best_effort(peer.host->advertise(), wire::to_bytes("burst")).ok()) ++errors;
        if (i % 8 == 0) {
          me.rec->set_meta(wire::to_bytes("t" + std::to_string(t) + "-" + std::to_string(i)));
          if (!me.host->update_node(scaled(5000ms)).ok()) ++errors;
          if (!me.host->send_reliable(peer.host->advertise(), wire::to_bytes("burst-r")).ok()) ++errors;
        }
      }
    });
  }
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    if (!wait_until([&] { return finished.load(); }, 30000ms)) stop = true;
  });
  for (auto &t : threads) t.join();
  finished = true;
  watchdog.join();
  EXPECT_FALSE(stop.load()) << "the burst did not finish in time";
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(wait_until([&] { return converged(all(), 3); }, 5000ms));
}

// Delegates may call back into their own host. A notification (notify_msg) runs off the loop
// thread, as memberlist's handler goroutine does, so even blocking calls work there; a callback
// that answers (get_broadcasts) runs on the loop: snapshots run inline, sends are queued, and
// blocking calls are refused rather than deadlocking.
TEST_F(Cluster, CallbacksMayCallBack) {
  struct Reentrant : protocol::Delegate {
    net::NodeHost *host = nullptr;
    protocol::Endpoint reply_to;
    std::atomic<int> members_seen{0};
    std::atomic<bool> join_ok{false}, in_cb{true}, ping_sent{false};
    std::atomic<bool> armed{false}, loop_in_cb{false}, loop_join_refused{false}, loop_sent{false}, loop_done{false};
    void notify_msg(wire::ByteView msg) override {
      if (std::string(msg.begin(), msg.end()) != "poke") return;
      auto ms = host->members();
      if (ms.ok()) members_seen = static_cast<int>(ms->size());
      in_cb = host->in_callback();
      join_ok = host->join({reply_to}).ok();
      ping_sent = host->send_best_effort(reply_to, wire::to_bytes("pong")).ok();
    }
    std::vector<wire::Bytes> get_broadcasts(size_t, size_t) override {
      if (!armed || loop_done) return {};
      loop_in_cb = host->in_callback();
      loop_join_refused = !host->join({reply_to}).ok();
      loop_sent = host->send_best_effort(reply_to, wire::to_bytes("loop")).ok();  // queued
      (void)host->join_async({reply_to}, nullptr);  // queued, runs after this callback
      loop_done = true;
      return {};
    }
  } re;
  auto &b = add(fast_config("b", "127.0.0.141"));
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.140");
  o.runtime = rt;
  o.delegates.delegate = &re;
  auto a = net::NodeHost::create(o);
  ASSERT_TRUE(a.ok());
  re.host = a->get();
  re.reply_to = b.host->advertise();
  ASSERT_TRUE((*a)->join({b.host->advertise()}).ok());
  ASSERT_TRUE(b.host->send_reliable((*a)->advertise(), wire::to_bytes("poke")).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("pong"); }, 3000ms));
  EXPECT_EQ(re.members_seen.load(), 2);
  EXPECT_FALSE(re.in_cb.load());
  EXPECT_TRUE(re.join_ok.load());
  EXPECT_TRUE(re.ping_sent.load());
  re.armed = true;
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("loop"); }, 3000ms));
  EXPECT_TRUE(re.loop_in_cb.load());
  EXPECT_TRUE(re.loop_join_refused.load());
  EXPECT_TRUE(re.loop_sent.load());
  EXPECT_FALSE((*a)->is_shut_down());
  EXPECT_FALSE((*a)->in_callback());
  a.value().reset();
}

// send_best_effort from a thread off the loop queues the message without waiting: every one is
// sent (the sender's udp_sent counts them all), in call order (what the receiver gets, whatever the
// kernel or the handoff queue drops, arrives in increasing order). With the loop held up, the
// caller runs ahead by at most kMaxQueuedSendBytes and then waits: back-pressure, not an unbounded
// queue and not a drop.
TEST_F(Cluster, BestEffortSendsQueueInOrderWithBackPressure) {
  auto &a = add(fast_config("a", "127.0.0.190"));
  auto &b = add(fast_config("b", "127.0.0.191"));
  const auto sent_before = a.host->metrics()->udp_sent;
  const auto to = b.host->advertise();
  constexpr int kMsgs = 6000;
  auto msg_of = [](int i) {
    wire::Bytes m(64, 'x');
    for (int k = 0; k < 4; ++k) m[static_cast<size_t>(k)] = static_cast<uint8_t>(i >> (24 - 8 * k));
    return m;
  };
  // Hold the loop: nothing queued can run until release().
  LoopHold hold(*rt);
  ASSERT_TRUE(hold.held());
  std::atomic<int> returned{0}, errors{0};
  std::thread sender([&] {
    for (int i = 0; i < kMsgs; ++i) {
      if (!a.host->send_best_effort(to, msg_of(i)).ok()) ++errors;
      ++returned;
    }
  });
  const int room = static_cast<int>(net::NodeHost::kMaxQueuedSendBytes / (64 + 64));
  const bool reached = wait_until([&] { return returned.load() >= room; }, 5000ms);
  // The next call waits for the held loop: the count must not pass the room.
  const bool ran_past = wait_until([&] { return returned.load() > room; }, 300ms);
  hold.release();
  sender.join();
  EXPECT_TRUE(reached) << returned.load() << " calls returned with the loop held";
  EXPECT_FALSE(ran_past) << returned.load() << " calls returned with the loop held, room for " << room;
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(wait_until([&] { return a.host->metrics()->udp_sent >= sent_before + kMsgs; }, 5000ms))
      << a.host->metrics()->udp_sent - sent_before;
  EXPECT_EQ(a.host->metrics()->udp_send_dropped, 0u);
  // Order at the receiver (the kernel or b's handoff queue may drop some under this flood).
  ASSERT_TRUE(wait_until([&] { return b.rec->messages().size() >= 100; }, 5000ms));
  const auto got = b.rec->messages();
  int last = -1;
  for (const auto &m : got) {
    ASSERT_EQ(m.size(), 64u);
    const int i = (m[0] << 24) | (m[1] << 16) | (m[2] << 8) | m[3];
    ASSERT_GT(i, last) << "message " << i << " arrived after " << last;
    last = i;
  }
}

// A send queued from inside a callback on the loop thread (it cannot wait there) that fails after
// all — here a message no UDP datagram holds — is not lost silently: it is logged at ERR and counted
// in udp_send_dropped, as memberlist logs a failed write.
TEST_F(Cluster, QueuedSendThatFailsIsLoggedAndCounted) {
  struct Lines : protocol::Logger {
    std::mutex mu;
    std::vector<std::string> lines;
    void log(protocol::LogLevel level, const std::string &msg) override {
      if (level != protocol::LogLevel::Error) return;
      std::lock_guard<std::mutex> lk(mu);
      lines.push_back(msg);
    }
    bool has(const std::string &s) {
      std::lock_guard<std::mutex> lk(mu);
      for (const auto &l : lines) {
        if (l.find(s) != std::string::npos) return true;
      }
      return false;
    }
  };
  auto logs = std::make_shared<Lines>();
  struct Oversend : protocol::Delegate {
    net::NodeHost *host = nullptr;
    protocol::Endpoint to;
    wire::Bytes big;  // incompressible: compression must not bring it under a datagram
    std::atomic<bool> armed{false}, done{false}, queued_ok{false};
    std::vector<wire::Bytes> get_broadcasts(size_t, size_t) override {
      if (!armed || done) return {};
      queued_ok = host->send_best_effort(to, big).ok();
      done = true;
      return {};
    }
  };
  auto over = std::make_shared<Oversend>();
  auto &b = add(fast_config("b", "127.0.0.193"));
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.192");
  o.runtime = rt;
  o.keep_alive = std::make_shared<std::pair<std::shared_ptr<Lines>, std::shared_ptr<Oversend>>>(logs, over);
  o.delegates.delegate = over.get();
  o.delegates.logger = logs.get();
  auto a = net::NodeHost::create(o);
  ASSERT_TRUE(a.ok());
  over->host = a->get();
  over->to = b.host->advertise();
  uint32_t x = 2463534242u;
  for (int i = 0; i < 70000; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    over->big.push_back(static_cast<uint8_t>(x));
  }
  ASSERT_TRUE((*a)->join({b.host->advertise()}).ok());
  // From outside a callback the same message is refused at once.
  auto direct = (*a)->send_best_effort(b.host->advertise(), over->big);
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().code, wire::Errc::LimitExceeded);
  const auto dropped_before = (*a)->metrics()->udp_send_dropped;
  over->armed = true;
  ASSERT_TRUE(wait_until([&] { return over->done.load(); }, 5000ms));
  EXPECT_TRUE(over->queued_ok.load());
  EXPECT_TRUE(wait_until([&] { return (*a)->metrics()->udp_send_dropped == dropped_before + 1; }, 5000ms));
  EXPECT_TRUE(wait_until([&] { return logs->has("Failed to send user message to"); }, 5000ms));
  a.value().reset();
}

// local_member() (memberlist's LocalNode) is served from a copy the loop refreshes when our entry
// changes: right after update_node() returns it shows the new metadata and incarnation, and a
// notify_update about ourselves that reads it sees the change it announces (or a later one: the
// notification runs on its own thread while the test goes on updating).
TEST_F(Cluster, LocalMemberCopyFollowsEveryChange) {
  struct SelfWatch : Recorder {
    std::atomic<net::NodeHost *> host{nullptr};
    std::mutex mu;
    std::vector<std::pair<wire::Bytes, wire::Bytes>> seen;  // (announced meta, local_member().meta)
    void notify_update(const protocol::Member &m) override {
      Recorder::notify_update(m);
      auto *h = host.load();
      if (h == nullptr || m.name != "a") return;
      auto me = h->local_member();
      std::lock_guard<std::mutex> lk(mu);
      seen.emplace_back(m.meta, me ? me->meta : wire::Bytes{});
    }
  };
  auto watch = std::make_shared<SelfWatch>();  // also the host's keep_alive
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.194");
  o.runtime = rt;
  o.keep_alive = watch;
  o.delegates = watch->delegates();
  auto a = net::NodeHost::create(o);
  ASSERT_TRUE(a.ok());
  watch->host = a->get();
  auto first = (*a)->local_member();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->name, "a");
  EXPECT_EQ(first->state, wire::NodeState::Alive);
  uint32_t inc = first->incarnation;
  for (int i = 0; i < 20; ++i) {
    const auto meta = wire::to_bytes("meta-" + std::to_string(i));
    watch->set_meta(meta);
    ASSERT_TRUE((*a)->update_node(scaled(2000ms)).ok());
    auto me = (*a)->local_member();
    ASSERT_TRUE(me.ok());
    EXPECT_EQ(me->meta, meta) << "round " << i;
    EXPECT_GT(me->incarnation, inc) << "round " << i;
    inc = me->incarnation;
  }
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard<std::mutex> lk(watch->mu);
        return watch->seen.size() == 20;
      },
      5000ms));
  auto round_of = [](const wire::Bytes &m) {
    const std::string s(m.begin(), m.end());
    return s.rfind("meta-", 0) == 0 ? std::atoi(s.c_str() + 5) : -1;
  };
  std::lock_guard<std::mutex> lk(watch->mu);
  for (const auto &[announced, read] : watch->seen) {
    EXPECT_GE(round_of(read), round_of(announced))
        << "told of " << std::string(announced.begin(), announced.end()) << ", read "
        << std::string(read.begin(), read.end());
  }
  watch->host = nullptr;
  a.value().reset();
}

// endpoint_of (the C and Java by-name sends): a live member's endpoint comes from a cache, with
// no round trip to the loop; a member that leaves and comes back at another address is found
// there, not at the cached one; an unknown name is nullopt.
TEST_F(Cluster, EndpointOfIsCachedAndFollowsAMove) {
  auto &a = add(fast_config("a", "127.0.0.230"));
  auto &b = add(fast_config("b", "127.0.0.231"));
  ASSERT_TRUE(b.host->join({a.host->advertise()}).ok());
  ASSERT_TRUE(wait_until([&] { return converged(all(), 2); }, 5000ms));
  auto first = a.host->endpoint_of("b");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, b.host->advertise());
  auto nobody = a.host->endpoint_of("nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());

  // With the loop held, the cached answer still comes back.
  LoopHold hold(*rt);
  ASSERT_TRUE(hold.held());
  std::atomic<bool> answered{false};
  std::optional<protocol::Endpoint> while_held;
  std::thread asker([&] {
    auto r = a.host->endpoint_of("b");
    if (r.ok()) while_held = *r;
    answered = true;
  });
  const bool without_loop = wait_until([&] { return answered.load(); }, 2000ms);
  hold.release();
  asker.join();
  EXPECT_TRUE(without_loop) << "endpoint_of waited for the loop";
  EXPECT_EQ(while_held, std::optional<protocol::Endpoint>(b.host->advertise()));

  // b leaves; a new "b" joins from another address (a left node's name may come back elsewhere).
  ASSERT_TRUE(b.host->leave(scaled(3000ms)).ok());
  ASSERT_TRUE(b.host->shutdown().ok());
  ASSERT_TRUE(wait_until([&] { return state_of(*a.host, "b") == wire::NodeState::Left; }, 5000ms));
  auto left = a.host->endpoint_of("b");  // still a member, in state Left
  ASSERT_TRUE(left.ok() && left->has_value());
  auto &b2 = add(fast_config("b", "127.0.0.232"));
  ASSERT_TRUE(b2.host->join({a.host->advertise()}).ok());
  ASSERT_TRUE(wait_until([&] { return state_of(*a.host, "b") == wire::NodeState::Alive; }, 5000ms));
  auto moved = a.host->endpoint_of("b");
  ASSERT_TRUE(moved.ok() && moved->has_value());
  EXPECT_EQ(**moved, b2.host->advertise()) << protocol::to_string(**moved) << " cached from before the move?";
}

// A misuse that must not crash: a delegate destroys its own host (on a private runtime) from
// inside a callback. The shutdown completes after the callback, the runtime's thread ends, and
// the port is released.
TEST_F(Cluster, HostDestroyedFromItsOwnCallback) {
  struct SelfDestruct : protocol::Delegate {
    std::unique_ptr<net::NodeHost> host;  // touched on the loop thread once started
    std::atomic<bool> destroyed{false};
    void notify_msg(wire::ByteView) override {
      if (!host) return;
      host.reset();
      destroyed = true;
    }
  } sd;
  auto &b = add(fast_config("b", "127.0.0.181"));
  net::HostOptions o;
  o.config = fast_config("a", "127.0.0.180");
  o.delegates.delegate = &sd;
  auto a = net::NodeHost::create(o);  // private runtime
  ASSERT_TRUE(a.ok());
  const auto a_ep = (*a)->advertise();
  EXPECT_EQ(thread_count(), threads_before + 2);
  {
    // Hand the host over on its own loop thread (where the delegate will read it).
    auto art = (*a)->runtime();
    ASSERT_TRUE(art->call([&] { sd.host = std::move(a.value()); }).ok());
  }
  ASSERT_TRUE(b.host->send_reliable(a_ep, wire::to_bytes("die")).ok());
  EXPECT_TRUE(wait_until([&] { return sd.destroyed.load(); }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return thread_count() == threads_before + 1; }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return try_bind(SOCK_DGRAM, "127.0.0.180", a_ep.port) == 0; }, 3000ms));
}

// Each node on a private runtime (the default): its thread goes away with it.
TEST_F(Cluster, PrivateRuntimesStopWithTheirNode) {
  {
    auto a = start_node(fast_config("a", "127.0.0.150"));
    auto b = start_node(fast_config("b", "127.0.0.151"));
    ASSERT_TRUE(a.host && b.host);
    EXPECT_NE(a.host->runtime(), b.host->runtime());
    EXPECT_EQ(thread_count(), threads_before + 3);  // the fixture's runtime plus two
    ASSERT_TRUE(b.host->join({a.host->advertise()}).ok());
    EXPECT_TRUE(wait_until([&] { return members_of(*a.host) == 2 && members_of(*b.host) == 2; }, 5000ms));
  }
  EXPECT_EQ(thread_count(), threads_before + 1);
}

// ------------------------------------------------------------------- external transport

// An in-process "network" for hosts in external-transport mode: datagrams and streams are
// handed from one host's callbacks to the other host's inputs.
class Loopback {
 public:
  struct Peer {
    std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();  // also the host's keep_alive
    std::unique_ptr<net::NodeHost> host;
    protocol::Endpoint ep;
  };

  net::ExternalCallbacks callbacks(Peer *me) {
    net::ExternalCallbacks cb;
    cb.send_packet = [this, me](const protocol::Endpoint &to, wire::ByteView data) {
      if (auto *p = find(to)) (void)p->host->deliver_packet(me->ep, data);
      ++packets;
    };
    cb.open_stream = [this, me](uint64_t id, const protocol::Endpoint &to, protocol::Time, wire::ByteView data,
                                bool expect_reply) {
      Peer *opener = me;
      Peer *p = find(to);
      if (!p) {
        (void)opener->host->stream_end(id, wire::make_error(wire::Errc::Truncated, "connection refused"));
        return;
      }
      auto rid = p->host->accept_stream(opener->ep);
      if (!rid) {
        (void)opener->host->stream_end(id, rid.error());
        return;
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        pairs_[{p, *rid}] = Pair{opener, id, expect_reply};
      }
      (void)p->host->stream_data(*rid, data);
      (void)p->host->stream_end(*rid, wire::Ok{});  // the opener has written everything
      if (!expect_reply) (void)opener->host->stream_end(id, wire::Ok{});
      ++streams;
    };
    cb.reply_stream = [this, me](uint64_t id, wire::ByteView data) {
      auto pr = take({me, id});
      if (!pr || !pr->expect_reply) return;
      if (!data.empty()) (void)pr->opener->host->stream_data(pr->opener_id, data);
      (void)pr->opener->host->stream_end(pr->opener_id, wire::Ok{});
    };
    cb.close_stream = [this, me](uint64_t id) {
      auto pr = take({me, id});
      if (pr && pr->expect_reply) (void)pr->opener->host->stream_end(pr->opener_id, wire::Ok{});
      ++closes;
    };
    return cb;
  }

  Peer &add(const std::shared_ptr<Runtime> &rt, const std::string &name, uint16_t fake_port) {
    auto owned = std::make_unique<Peer>();
    Peer &p = *owned;
    {
      std::lock_guard<std::mutex> lk(mu_);
      peers_.push_back(std::move(owned));
    }
    auto cfg = fast_config(name);
    cfg.advertise_addr = "127.0.0.1";  // an identifier only: nothing is bound in this mode
    cfg.advertise_port = fake_port;
    net::HostOptions o;
    o.config = cfg;
    o.runtime = rt;
    o.delegates = p.rec->delegates();
    o.keep_alive = p.rec;
    o.external = callbacks(&p);
    p.ep = protocol::Endpoint{{127, 0, 0, 1}, fake_port, name};
    auto h = net::NodeHost::create(o);
    EXPECT_TRUE(h.ok()) << h.error().to_string();
    if (h) {
      std::lock_guard<std::mutex> lk(mu_);
      p.host = std::move(h.value());
    }
    return p;
  }
  void clear() {
    for (auto &p : peers_) {
      if (p->host) (void)p->host->shutdown();
    }
    peers_.clear();
  }

  std::atomic<int> packets{0}, streams{0}, closes{0};

 private:
  struct Pair {
    Peer *opener;
    uint64_t opener_id;
    bool expect_reply;
  };
  Peer *find(const protocol::Endpoint &to) {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto &p : peers_) {
      if (p->host && p->ep.ip == to.ip && p->ep.port == to.port && !p->host->is_shut_down()) return p.get();
    }
    return nullptr;
  }
  std::optional<Pair> take(std::pair<Peer *, uint64_t> key) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = pairs_.find(key);
    if (it == pairs_.end()) return std::nullopt;
    Pair p = it->second;
    pairs_.erase(it);
    return p;
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::map<std::pair<Peer *, uint64_t>, Pair> pairs_;
};

TEST_F(Cluster, ExternalTransportJoin) {
  Loopback net;
  auto &a = net.add(rt, "ext-a", 1001);
  auto &b = net.add(rt, "ext-b", 1002);
  ASSERT_TRUE(a.host && b.host);
  EXPECT_EQ(a.host->port(), 0);
  auto j = b.host->join({a.ep});
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(wait_until([&] { return members_of(*a.host) == 2 && members_of(*b.host) == 2; }, 5000ms));
  // Probes and gossip go through send_packet; reliable messages through streams.
  ASSERT_TRUE(a.host->send_reliable(b.ep, wire::to_bytes("ext reliable")).ok());
  EXPECT_TRUE(wait_until([&] { return b.rec->got_msg("ext reliable"); }, 3000ms));
  EXPECT_TRUE(wait_until([&] { return net.packets.load() > 10; }, 3000ms));
  auto rtt = a.host->ping("ext-b", b.ep);
  EXPECT_TRUE(rtt.ok());
  // Not a socket host: no port, and the socket-mode-only inputs are refused on socket hosts.
  auto &s = add(fast_config("sock", "127.0.0.160"));
  EXPECT_FALSE(s.host->deliver_packet(a.ep, wire::to_bytes("x")).ok());
  // A crashed external node is detected by the other.
  ASSERT_TRUE(b.host->shutdown().ok());
  EXPECT_TRUE(wait_until([&] { return state_of(*a.host, "ext-b") == wire::NodeState::Dead; }, 15000ms));
  net.clear();
}

// The embedder's inbound streams follow NetTransport's rules (issue 12): 300 that never send a
// byte take no push/pull slot (the oldest 44 are closed at once to make room, the rest at the
// first-byte deadline), and a join through the node still succeeds.
TEST_F(Cluster, ExternalTransportIdleStreamsDoNotLockOut) {
  Loopback net;
  auto &a = net.add(rt, "ext-a", 1011);
  auto &b = net.add(rt, "ext-b", 1012);
  ASSERT_TRUE(a.host && b.host);
  const protocol::Endpoint idler{{127, 0, 0, 9}, 4242, ""};
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(a.host->accept_stream(idler).ok());
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->streams_evicted == 300u - net::kMaxPendingStreams;
      },
      3000ms));
  EXPECT_GE(net.closes.load(), 300 - net::kMaxPendingStreams);  // close_stream for each
  auto j = b.host->join({a.ep});
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_TRUE(wait_until([&] { return members_of(*a.host) == 2 && members_of(*b.host) == 2; }, 5000ms));
  // fast_config's tcp_timeout (1 s) caps the first-byte deadline: every idle stream goes.
  EXPECT_TRUE(wait_until(
      [&] {
        auto st = a.host->transport_stats();
        return st.ok() && st->streams_pending == 0 && st->stream_timeouts >= 200;
      },
      5000ms));
  auto m = a.host->metrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->push_pull_refused, 0u);
  net.clear();
}

}  // namespace
