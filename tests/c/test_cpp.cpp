// The header-only C++ wrapper (bindings/cpp/memberlist.hpp): RAII handles, presets and set/get,
// errors as memberlist::Error carrying the ml_err_t and the library's text, std::function
// delegates freed exactly once, a 2-node cluster on one shared Runtime (join, events, messages
// both ways, metadata, keyring, metrics, leave), all waits with deadlines.
#include <memberlist.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ml = memberlist;
using namespace std::chrono_literals;

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      std::exit(1);                                                                    \
    }                                                                                  \
  } while (0)

// Deadlines are stretched like the C suites' (helpers.h): by ML_TEST_TIMEOUT_SCALE (a number >= 1;
// the valgrind test sets 10) and by 3 in a sanitizer build (ML_TEST_SANITIZED).
static std::chrono::milliseconds scaled(std::chrono::milliseconds d) {
  const char *env = std::getenv("ML_TEST_TIMEOUT_SCALE");
  double f = env != nullptr ? std::atof(env) : 1.0;
  if (f < 1.0) f = 1.0;
#ifdef ML_TEST_SANITIZED
  f *= 3.0;
#endif
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(static_cast<double>(d.count()) * f));
}

static bool wait_for(const std::function<bool()> &cond, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

template <class F>
static ml_err_t error_of(F &&f) {
  try {
    f();
  } catch (const ml::Error &e) {
    CHECK(std::string(e.what()).size() > 0);
    return e.code();
  }
  return ML_OK;
}

struct Node {
  std::string name;
  std::atomic<int> joins{0}, leaves{0}, updates{0}, msgs{0}, selections{0}, self_seen{0};
  std::mutex mu;
  ml::Bytes meta;  // guarded by mu
};

static ml::Config node_config(const std::shared_ptr<Node> &n, int index, std::atomic<int> &frees) {
  ml::Config cfg = ml::Config::local();
  cfg.set("name", n->name)
      .set("bind_addr", "127.0.0.1" + std::to_string(index))  // 127.0.0.10, 127.0.0.11
      .set("bind_port", "0")
      .set("probe_interval", "100ms")
      .set("probe_timeout", "50ms")
      .set("gossip_interval", "20ms")
      .set("push_pull_interval", "1s");
  // The shared_ptr copies inside the std::functions are released by user_free: counted through
  // a guard object's destructor.
  struct Guard {
    std::atomic<int> *frees;
    explicit Guard(std::atomic<int> *f) : frees(f) {}
    Guard(const Guard &) = delete;
    ~Guard() { frees->fetch_add(1); }
  };
  auto guard = std::make_shared<Guard>(&frees);
  ml::Delegate d;
  d.node_meta = [n, guard](size_t limit) {
    std::lock_guard<std::mutex> lock(n->mu);
    ml::Bytes m = n->meta;
    if (m.size() > limit) m.resize(limit);
    return m;
  };
  d.notify_msg = [n](const ml::Bytes &msg) {
    if (msg.size() >= 3) n->msgs.fetch_add(1);
  };
  cfg.delegate(std::move(d));
  cfg.on_event([n, guard](ml::Event ev, const ml::Member &m) {
    (void)m;
    switch (ev) {
      case ml::Event::Join: n->joins.fetch_add(1); break;
      case ml::Event::Leave: n->leaves.fetch_add(1); break;
      case ml::Event::Update: n->updates.fetch_add(1); break;
    }
  });
  // Zone-aware gossip's hook: every candidate selected (so behaviour is as without), counted.
  cfg.on_node_selection([n, guard](const std::vector<ml::Member> &cands, std::vector<bool> &sel) -> int64_t {
    for (size_t i = 0; i < cands.size(); ++i) {
      sel[i] = true;
      if (cands[i].name == n->name) n->self_seen.fetch_add(1);
    }
    n->selections.fetch_add(1);
    return -1;
  });
  return cfg;
}

int main() {
  CHECK(ml::version() == ML_VERSION);
  CHECK(ml::version_string() == std::to_string(ML_VERSION_MAJOR) + "." + std::to_string(ML_VERSION_MINOR) + "." +
                                    std::to_string(ML_VERSION_PATCH));

  // Config: presets, set/get, errors with codes and text.
  {
    ml::Config c = ml::Config::wan();
    CHECK(c.get("probe_interval") == "5s");
    c.set("probe_interval", "2s");
    CHECK(c.get("probe_interval") == "2s");
    CHECK(error_of([&] { c.set("no_such_key", "1"); }) == ML_ERR_UNKNOWN_KEY);
    CHECK(error_of([&] { c.set("probe_interval", "soon"); }) == ML_ERR_BAD_VALUE);
    CHECK(error_of([&] { (void)c.get("nope"); }) == ML_ERR_UNKNOWN_KEY);
    try {
      c.set("no_such_key", "1");
      CHECK(false);
    } catch (const ml::Error &e) {
      CHECK(std::string(e.what()).find("no_such_key") != std::string::npos);
    }
    c.set("delegate_protocol_min", "3");  // each value fine alone, not together
    c.set("delegate_protocol_max", "2");
    CHECK(error_of([&] { c.validate(); }) == ML_ERR_INVALID_CONFIG);
    ml::Config moved = std::move(c);  // the moved-from Config is empty and destroys nothing
    CHECK(error_of([&] { ml::Memberlist m(moved); }) == ML_ERR_INVALID_CONFIG);
  }
  CHECK(error_of([] { ml::Keyring k(ml::Bytes(5, 1)); }) == ML_ERR_KEY);

  std::atomic<int> frees{0};
  {
    ml::Runtime rt;
    CHECK(error_of([&] { rt.set_timer_coalescing(101); }) == ML_ERR_INVALID_ARGUMENT);
    rt.set_timer_coalescing(5);  // the two nodes' timers on a 5 ms grid
    auto a = std::make_shared<Node>();
    auto b = std::make_shared<Node>();
    a->name = "cpp-a";
    b->name = "cpp-b";
    ml::Memberlist ma(node_config(a, 0, frees), &rt);
    ml::Memberlist mb(node_config(b, 1, frees), &rt);
    CHECK(error_of([&] { rt.destroy(); }) == ML_ERR_BUSY);

    const ml::Member la = ma.local();
    CHECK(la.name == "cpp-a");
    CHECK(la.port != 0);
    CHECK(la.addr.size() == 4);
    CHECK(mb.join({la.address}) == 1);
    CHECK(error_of([&] { mb.join({"not an address"}); }) == ML_ERR_JOIN_FAILED);
    CHECK(wait_for([&] { return ma.num_members() == 2 && mb.num_members() == 2; }));
    CHECK(wait_for([&] { return a->joins.load() == 2 && b->joins.load() == 2; }));
    CHECK(wait_for([&] { return a->selections.load() > 0 && b->selections.load() > 0; }));
    CHECK(a->self_seen.load() > 0);

    // Messages both ways.
    ma.send_reliable("cpp-b", {'r', 'l', ':', '1'});
    mb.send_best_effort("cpp-a", {'b', 'e', ':', '1'});
    CHECK(wait_for([&] { return a->msgs.load() >= 1 && b->msgs.load() >= 1; }));
    CHECK(error_of([&] { ma.send_reliable("nobody", {'x'}); }) == ML_ERR_NOT_FOUND);
    mb.send_reliable_to_address(la.address, {'r', 'l', ':', '2'});
    CHECK(wait_for([&] { return a->msgs.load() >= 2; }));
    CHECK(error_of([&] { ma.send_reliable_to_address("not an address", {'x'}); }) == ML_ERR_INVALID_ARGUMENT);
    CHECK(ma.ping("cpp-b", mb.local().address).count() > 0);

    // Metadata update propagates.
    {
      std::lock_guard<std::mutex> lock(a->mu);
      a->meta = {'d', 'b'};
    }
    ma.update_node(scaled(5s));
    CHECK(wait_for([&] {
      for (const auto &m : mb.members()) {
        if (m.name == "cpp-a" && m.meta == ml::Bytes{'d', 'b'}) return true;
      }
      return false;
    }));
    {
      std::lock_guard<std::mutex> lock(a->mu);
      a->meta = ml::Bytes(600, 'x');  // over the limit: the delegate truncates to 512
    }
    ma.update_node(scaled(5s));

    // Keyring of a node without encryption: empty; metrics by name.
    CHECK(ma.keyring().keys().empty());
    const auto metrics = ma.metrics();
    CHECK(metrics.count("memberlist.udp.sent") == 1);
    CHECK(metrics.at("memberlist.udp.sent") > 0);
    CHECK(ma.health_score() >= 0);

    // External-transport input on a socket node: a distinct error.
    CHECK(error_of([&] { ma.deliver_packet("127.0.0.1:1", {1}); }) == ML_ERR_NOT_SUPPORTED);

    // b leaves, then shuts down; a sees it go.
    mb.leave(scaled(5s));
    CHECK(wait_for([&] { return ma.num_members() == 1 && a->leaves.load() == 1; }));
    mb.shutdown();
    CHECK(error_of([&] { mb.send_best_effort("cpp-a", {'x'}); }) == ML_ERR_CLOSED);
    CHECK(mb.members().size() >= 1);  // snapshots keep working after shutdown
  }  // ma, mb destroyed (user_free), then the runtime
  CHECK(frees.load() == 2);

  // A keyring shared between the caller and a private-runtime node.
  {
    ml::Bytes k1(16, 7), k2(32, 9);
    ml::Keyring kr(k1);
    kr.add(k2);
    CHECK(kr.keys().size() == 2);
    ml::Config cfg = ml::Config::local();
    cfg.set("name", "cpp-enc").set("bind_addr", "127.0.0.12").set("bind_port", "0").keyring(kr);
    ml::Memberlist m(cfg);
    kr.remove(k2);
    CHECK(m.keyring().keys().size() == 1);
    CHECK(error_of([&] { kr.remove(k1); }) == ML_ERR_KEY);  // the primary
  }
  std::puts("test_cpp: ok");
  return 0;
}
