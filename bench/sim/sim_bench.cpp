// sim_bench: convergence, CPU time and memory of N real protocol::Node instances in the
// deterministic simulator (core/sim), for a list of cluster sizes. For each N, in a fresh child
// process (so peak RSS is per N), with a fixed seed and the LAN preset:
//
//   join   N nodes start at once and every node but node 0 joins through node 0 (as
//          tests/core/sim_test.cpp does). Per node: the virtual time at which it first sees all N
//          nodes alive (NotifyJoin count, itself included, reaches N).
//   rumor  on the joined cluster, after --settle seconds (default 10; -1: once every node's
//          broadcast queue has drained, at most --max-settle seconds), node 1 changes its
//          metadata and calls UpdateNode (a new incarnation gossiped as an alive). Per other
//          node: the time its NotifyUpdate for node 1 fires. This is the plain epidemic curve.
//   fail   then node N/2 is killed (crash: it sends nothing). Per survivor: the first time it
//          holds the victim as Suspect (polled every GossipInterval/4) and the time of its
//          NotifyLeave (Dead). Dead is also reported from the first declaration, which removes
//          the probe-hit and suspicion-timeout wait and leaves the dissemination. The crash
//          happens 5 s after the rumor reached everyone.
//
// Times are reported in gossip rounds (GossipInterval: 200 ms, a fifth of a probe period). For
// each scenario the rounds by which 50%, 99% and 100% of the observers had the event are
// reported, next to the epidemic bound log_{GossipNodes+1}(N).
//
// Output
//   --out FILE     one TSV row per N (header first), columns described by the header
//   --curves FILE  coverage every 0.1 round: N, scenario, round, seconds, covered, observers,
//                  fraction
//   stdout         a readable line per N
//
// Memory and CPU: the parent forks one child per N and reads the child's getrusage through
// wait4 (ru_maxrss = peak RSS, user + system CPU). The child also reports its live heap
// (mallinfo2) once the join has converged (tables plus the join's queued broadcasts) and after
// the settle period (with the queues drained: N full member tables), and its RSS at the first.
//
//   sim_bench [--nodes 100,250,500] [--seed S] [--settle SECONDS|-1] [--max-settle SECONDS]
//             [--out FILE] [--curves FILE] [--max-join SECONDS] [--max-fail SECONDS]
//             [--scenarios join,rumor,fail]   (join always runs)   [--no-compression]
//   sim_bench --smoke   50 nodes, all three scenarios, exits 1 unless every one reaches 100%
#include <malloc.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/config.hpp"
#include "protocol/node.hpp"
#include "sim/sim.hpp"

namespace {

using namespace memberlist;
using namespace std::chrono_literals;
using protocol::Duration;
using protocol::Time;
using sim::Simulator;
using NodeId = Simulator::NodeId;
using Clock = std::chrono::steady_clock;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "sim_bench: %s\n", what.c_str());
  std::exit(2);
}

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A field of /proc/self/status in kB (VmRSS, VmHWM), or 0.
long proc_status_kb(const char *field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::strtol(line.c_str() + len + 1, nullptr, 10);
    }
  }
  return 0;
}

size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct Options {
  std::vector<size_t> nodes{100, 250, 500};
  uint64_t seed = 1;
  double settle = 10;     // virtual seconds between join convergence and the rumor; < 0: until
                          // every node's broadcast queue is empty (at most max_settle)
  double max_settle = 600;
  double max_join = 600;  // virtual seconds
  double max_rumor = 60;
  double max_fail = 600;
  bool join = true, rumor = true, fail = true;
  bool compression = true;  // the LAN preset's EnableCompression
  std::string out, curves;
  bool smoke = false;
};

// ---------------------------------------------------------------------------------------------
// Observation hooks: one EventDelegate per node, writing into flat per-node arrays.

struct Observed {
  size_t n = 0;
  Simulator *sim = nullptr;
  std::vector<uint32_t> alive;               // NotifyJoin - NotifyLeave, self included
  std::vector<std::optional<Time>> full_at;  // first time alive == n
  size_t full = 0;
  NodeId updater = 0;
  std::string updater_name, victim_name;
  uint32_t updater_inc = std::numeric_limits<uint32_t>::max();
  std::vector<std::optional<Time>> updated_at, dead_at, suspect_at;
  size_t updated = 0, dead = 0, suspected = 0;
  bool unexpected_leave = false;
};

struct Hook final : protocol::EventDelegate {
  Observed *o = nullptr;
  NodeId self = 0;
  void notify_join(const protocol::Member &) override {
    if (++o->alive[self] == o->n && !o->full_at[self]) {
      o->full_at[self] = o->sim->now();
      ++o->full;
    }
  }
  void notify_leave(const protocol::Member &m) override {
    --o->alive[self];
    if (m.name == o->victim_name) {
      if (!o->dead_at[self]) {
        o->dead_at[self] = o->sim->now();
        ++o->dead;
      }
    } else {
      o->unexpected_leave = true;
    }
  }
  void notify_update(const protocol::Member &m) override {
    if (self != o->updater && m.name == o->updater_name && m.incarnation >= o->updater_inc && !o->updated_at[self]) {
      o->updated_at[self] = o->sim->now();
      ++o->updated;
    }
  }
};

struct MetaSource final : protocol::Delegate {
  wire::Bytes meta;
  wire::Bytes node_meta(size_t) override { return meta; }
};

// ---------------------------------------------------------------------------------------------
// Coverage curves

struct Curve {
  std::string scenario;
  std::vector<double> t;  // seconds after the start event, one per observer that saw it
  size_t observers = 0;
};

Curve make_curve(std::string scenario, const std::vector<std::optional<Time>> &at, Time t0,
                 const std::vector<bool> &observer) {
  Curve c;
  c.scenario = std::move(scenario);
  for (size_t i = 0; i < at.size(); ++i) {
    if (!observer[i]) continue;
    ++c.observers;
    if (at[i]) c.t.push_back(std::max(0.0, seconds(*at[i] - t0)));
  }
  std::sort(c.t.begin(), c.t.end());
  return c;
}

// Seconds by which a fraction p of the observers had the event (NaN if they never did).
double quantile(const Curve &c, double p) {
  if (c.observers == 0) return kNaN;
  const size_t need = static_cast<size_t>(std::ceil(p * static_cast<double>(c.observers) - 1e-9));
  if (need == 0) return 0;
  if (need > c.t.size()) return kNaN;
  return c.t[need - 1];
}

// ---------------------------------------------------------------------------------------------
// One cluster size

struct Result {
  size_t n = 0;
  double gossip_s = 0, probe_s = 0, bound = 0;
  Curve join, rumor, suspect, dead, dead_from_first;
  double join_cpu = kNaN, join_wall = kNaN, rumor_cpu = kNaN, fail_cpu = kNaN;
  double join_virtual = kNaN;
  long rss_joined_kb = 0;
  size_t heap_joined = 0, heap_start = 0, heap_settled = 0;
  double settle_s = kNaN;
  uint64_t queued_joined = 0, queued_settled = 0;  // system broadcasts queued, all nodes
  uint64_t events = 0, packets = 0, bytes = 0;
  bool ok = true;
  std::string notes;
};

Result run_one(size_t n, const Options &opt) {
  Result r;
  // A check that failed: the run is not ok, and the note says why.
  const auto fail_if = [&r](bool failed, const char *why) {
    if (failed) {
      r.ok = false;
      r.notes += why;
    }
  };
  r.n = n;
  protocol::Config cfg = protocol::Config::lan();
  cfg.name.clear();
  cfg.enable_compression = opt.compression;
  r.gossip_s = seconds(cfg.gossip_interval);
  r.probe_s = seconds(cfg.probe_interval);
  r.bound = std::log(static_cast<double>(n)) / std::log(cfg.gossip_nodes + 1.0);
  r.heap_start = heap_in_use();

  Simulator sim(opt.seed);
  Observed o;
  o.n = n;
  o.sim = &sim;
  o.alive.assign(n, 0);
  o.full_at.assign(n, std::nullopt);
  o.updated_at.assign(n, std::nullopt);
  o.dead_at.assign(n, std::nullopt);
  o.suspect_at.assign(n, std::nullopt);
  o.updater_name = "node-1";
  o.victim_name = "node-" + std::to_string(n / 2);
  const NodeId updater = 1, victim = n / 2;
  o.updater = updater;
  std::vector<Hook> hooks(n);
  MetaSource meta;
  meta.meta = wire::Bytes{'v', '1'};

  // ---- join
  const double cpu0 = cpu_seconds();
  const auto wall0 = Clock::now();
  const Time t_join = sim.now();
  for (size_t i = 0; i < n; ++i) {
    hooks[i].o = &o;
    hooks[i].self = i;
    protocol::Delegates d;
    d.events = &hooks[i];
    if (i == updater) d.delegate = &meta;
    auto id = sim.add_node(cfg, d);
    if (!id.ok()) die("add_node: " + id.error().to_string());
  }
  for (size_t i = 1; i < n; ++i) {
    sim.node(i).join(sim.now(), {sim.endpoint(0)});
    sim.flush(i);
  }
  const bool joined = sim.run_until([&] { return o.full == n; }, std::chrono::duration_cast<Duration>(
                                        std::chrono::duration<double>(opt.max_join)), cfg.gossip_interval);
  r.join_virtual = seconds(sim.now() - t_join);
  r.join_cpu = cpu_seconds() - cpu0;
  r.join_wall = seconds(Clock::now() - wall0);
  r.join = make_curve("join", o.full_at, t_join, std::vector<bool>(n, true));
  r.rss_joined_kb = proc_status_kb("VmRSS");
  r.heap_joined = heap_in_use();
  auto queued = [&] {
    uint64_t q = 0;
    for (NodeId i = 0; i < n; ++i) {
      if (sim.is_alive(i)) q += sim.node(i).metrics().queue_system;
    }
    return q;
  };
  r.queued_joined = queued();
  fail_if(!joined, "join did not converge; ");
  fail_if(o.unexpected_leave, "a healthy node was declared dead; ");

  const auto settle = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::max(0.0, opt.settle)));

  if (joined) {
    // Let the join's broadcasts drain (each is retransmitted RetransmitMult x log10(N+1) times);
    // what remains is the steady-state footprint: N member tables of N entries.
    const Time t0 = sim.now();
    if (opt.settle >= 0) {
      sim.run_for(settle);
    } else {
      sim.run_until([&] { return queued() == 0; },
                    std::chrono::duration_cast<Duration>(std::chrono::duration<double>(opt.max_settle)), 1s);
    }
    r.settle_s = seconds(sim.now() - t0);
    r.heap_settled = heap_in_use();
    r.queued_settled = queued();
  }
  // ---- rumor: node 1 gossips a new incarnation with new metadata
  if (opt.rumor && joined && n >= 2) {
    const double c0 = cpu_seconds();
    meta.meta = wire::Bytes{'v', '2'};
    o.updater_inc = sim.node(updater).local_member().incarnation + 1;
    const Time t0 = sim.now();
    sim.node(updater).update_node(t0, 30s);
    sim.flush(updater);
    std::vector<bool> obs(n, true);
    obs[updater] = false;
    const bool done = sim.run_until([&] { return o.updated == n - 1; },
                                    std::chrono::duration_cast<Duration>(std::chrono::duration<double>(opt.max_rumor)),
                                    cfg.gossip_interval / 4);
    r.rumor = make_curve("rumor", o.updated_at, t0, obs);
    r.rumor_cpu = cpu_seconds() - c0;
    fail_if(!done, "rumor did not reach everyone; ");
  }

  // ---- fail: node n/2 crashes, a few seconds after the rumor
  if (opt.fail && joined && n >= 3) {
    sim.run_for(5s);
    const double c0 = cpu_seconds();
    const Time t0 = sim.now();
    sim.kill(victim);
    std::vector<bool> obs(n, true);
    obs[victim] = false;
    auto poll = [&] {
      for (NodeId i = 0; i < n; ++i) {
        if (i == victim || o.suspect_at[i]) continue;
        if (o.dead_at[i]) {  // went straight to dead (a dead message arrived first)
          o.suspect_at[i] = o.dead_at[i];
          ++o.suspected;
          continue;
        }
        auto m = sim.node(i).member(o.victim_name);
        if (m && m->state != wire::NodeState::Alive) {
          o.suspect_at[i] = sim.now();
          ++o.suspected;
        }
      }
      return o.dead == n - 1 && o.suspected == n - 1;
    };
    const bool done = sim.run_until(poll, std::chrono::duration_cast<Duration>(std::chrono::duration<double>(opt.max_fail)),
                                    cfg.gossip_interval / 4);
    r.suspect = make_curve("suspect", o.suspect_at, t0, obs);
    r.dead = make_curve("dead", o.dead_at, t0, obs);
    Time first = sim.now();
    for (const auto &t : o.dead_at) {
      if (t) first = std::min(first, *t);
    }
    r.dead_from_first = make_curve("dead_from_first", o.dead_at, first, obs);
    r.fail_cpu = cpu_seconds() - c0;
    fail_if(!done, "failure not detected by every survivor; ");
    fail_if(o.unexpected_leave, "a healthy node was declared dead; ");
  }
  r.events = sim.events_processed();
  r.packets = sim.net_stats().packets_sent;
  r.bytes = sim.net_stats().bytes_sent;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Output

std::string num(double v, int prec = 1) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// Rounds (gossip intervals) for the three quantiles of a curve.
void quantile_cols(std::ostringstream &os, const Curve &c, double unit) {
  for (double p : {0.5, 0.99, 1.0}) os << '\t' << num(quantile(c, p) / unit);
}

const char *kHeader =
    "nodes\tseed\tgossip_ms\tbound_rounds"
    "\tjoin50\tjoin99\tjoin100\trumor50\trumor99\trumor100"
    "\tsuspect50\tsuspect99\tsuspect100\tdead50\tdead99\tdead100\tdeadfirst50\tdeadfirst99\tdeadfirst100"
    "\tjoin_virtual_s\tjoin_cpu_s\tjoin_wall_s\trumor_cpu_s\tfail_cpu_s\trss_joined_kb\theap_joined_bytes"
    "\tsettle_s\theap_settled_bytes\tqueued_joined\tqueued_settled\tevents\tpackets\tbytes_sent\tcompression\tok\tnotes";

// The child's row, without the parent's rusage columns.
std::string row(const Result &r, const Options &opt) {
  std::ostringstream os;
  os << r.n << '\t' << opt.seed << '\t' << num(r.gossip_s * 1000, 0) << '\t' << num(r.bound, 2);
  quantile_cols(os, r.join, r.gossip_s);
  quantile_cols(os, r.rumor, r.gossip_s);
  quantile_cols(os, r.suspect, r.gossip_s);
  quantile_cols(os, r.dead, r.gossip_s);
  quantile_cols(os, r.dead_from_first, r.gossip_s);
  os << '\t' << num(r.join_virtual, 1) << '\t' << num(r.join_cpu, 2) << '\t' << num(r.join_wall, 2) << '\t'
     << num(r.rumor_cpu, 2) << '\t' << num(r.fail_cpu, 2) << '\t' << r.rss_joined_kb << '\t'
     << (r.heap_joined - r.heap_start) << '\t' << num(r.settle_s, 1) << '\t' << (r.heap_settled ? r.heap_settled - r.heap_start : 0) << '\t'
     << r.queued_joined << '\t' << r.queued_settled << '\t' << r.events << '\t' << r.packets << '\t' << r.bytes << '\t'
     << (opt.compression ? 1 : 0) << '\t' << (r.ok ? 1 : 0) << '\t' << (r.notes.empty() ? "-" : r.notes);
  return os.str();
}

// Coverage every tenth of a gossip round, from 0 to the point at which the curve stops rising.
std::string curve_rows(const Result &r) {
  constexpr int kSteps = 10;  // per round
  std::ostringstream os;
  for (const Curve *c : {&r.join, &r.rumor, &r.suspect, &r.dead, &r.dead_from_first}) {
    if (c->observers == 0 || c->t.empty()) continue;
    const auto last = static_cast<size_t>(std::ceil(c->t.back() / r.gossip_s * kSteps - 1e-9));
    size_t k = 0;
    for (size_t step = 0; step <= last; ++step) {
      const double round = static_cast<double>(step) / kSteps;
      const double until = round * r.gossip_s;
      while (k < c->t.size() && c->t[k] <= until + 1e-9) ++k;
      os << r.n << '\t' << c->scenario << '\t' << num(round, 1) << '\t' << num(until, 2) << '\t' << k << '\t'
         << c->observers << '\t' << num(static_cast<double>(k) / static_cast<double>(c->observers), 5) << '\n';
    }
  }
  return os.str();
}

std::vector<size_t> parse_list(const std::string &s) {
  std::vector<size_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char *end = nullptr;
    const unsigned long x = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || x < 2) die("bad --nodes entry '" + item + "' (need integers >= 2)");
    v.push_back(x);
  }
  return v;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--nodes") {
      o.nodes = parse_list(next());
    } else if (a == "--seed") {
      o.seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--settle") {
      o.settle = std::atof(next().c_str());
    } else if (a == "--max-settle") {
      o.max_settle = std::atof(next().c_str());
    } else if (a == "--max-join") {
      o.max_join = std::atof(next().c_str());
    } else if (a == "--max-fail") {
      o.max_fail = std::atof(next().c_str());
    } else if (a == "--out") {
      o.out = next();
    } else if (a == "--curves") {
      o.curves = next();
    } else if (a == "--scenarios") {
      const std::string s = next();
      o.rumor = s.find("rumor") != std::string::npos;
      o.fail = s.find("fail") != std::string::npos;
    } else if (a == "--no-compression") {
      o.compression = false;
    } else if (a == "--smoke") {
      o.smoke = true;
      o.nodes = {50};
      o.settle = 2;
    } else if (a == "-h" || a == "--help") {
      std::printf(
          "sim_bench [--nodes 100,250,500] [--seed S] [--settle SECONDS|-1] [--max-settle SECONDS]\n"
          "          [--out FILE] [--curves FILE] [--no-compression]\n"
          "          [--max-join SECONDS] [--max-fail SECONDS] [--scenarios join,rumor,fail] [--smoke]\n");
      std::exit(0);
    } else {
      die("unknown argument " + a);
    }
  }
  return o;
}

bool write_all(int fd, const std::string &s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

std::string read_all(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) break;
    s.append(buf, static_cast<size_t>(r));
  }
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  const Options opt = parse(argc, argv);
  std::FILE *out = nullptr, *curves = nullptr;
  if (!opt.out.empty() && !(out = std::fopen(opt.out.c_str(), "w"))) die("cannot write " + opt.out);
  if (!opt.curves.empty() && !(curves = std::fopen(opt.curves.c_str(), "w"))) die("cannot write " + opt.curves);
  if (out) std::fprintf(out, "%s\twall_s\tcpu_s\tpeak_rss_kb\tbytes_per_node\tbytes_per_entry\n", kHeader);
  if (curves) std::fprintf(curves, "nodes\tscenario\tround\tseconds\tcovered\tobservers\tfraction\n");
  std::printf("%6s %7s %7s %8s %9s %9s  %-17s %-17s %-17s %-17s %s\n", "N", "wall s", "cpu s", "peakMB", "B/node",
              "B/entry", "join 50/99/100", "rumor 50/99/100", "dead 50/99/100", "dead-from-1st", "log4N");
  std::fflush(stdout);
  int failures = 0;
  for (size_t n : opt.nodes) {
    int fds[2];
    if (pipe(fds) != 0) die("pipe failed");
    std::fflush(nullptr);
    const auto wall0 = Clock::now();
    const pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      const Result r = run_one(n, opt);
      const std::string msg = row(r, opt) + "\n" + curve_rows(r);
      const bool ok = write_all(fds[1], msg);
      ::close(fds[1]);
      _exit(ok ? (r.ok ? 0 : 1) : 3);
    }
    ::close(fds[1]);
    const std::string msg = read_all(fds[0]);
    ::close(fds[0]);
    int status = 0;
    rusage ru{};
    if (wait4(pid, &status, 0, &ru) != pid) die("wait4 failed");
    const double wall = seconds(Clock::now() - wall0);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    const double peak = static_cast<double>(ru.ru_maxrss) * 1024.0;  // kB on Linux
    const double nd = static_cast<double>(n);
    const size_t eol = msg.find('\n');
    if (eol == std::string::npos) {
      std::fprintf(stderr, "sim_bench: N=%zu: child died (status %d) after %.1f s, peak RSS %.0f MB\n", n, status, wall,
                   peak / 1e6);
      ++failures;
      continue;
    }
    const std::string line = msg.substr(0, eol);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "sim_bench: N=%zu did not complete every scenario: %s\n", n, line.c_str());
      ++failures;
    }
    if (out) {
      std::fprintf(out, "%s\t%.2f\t%.2f\t%ld\t%.0f\t%.1f\n", line.c_str(), wall, cpu, ru.ru_maxrss, peak / nd,
                   peak / (nd * nd));
      std::fflush(out);
    }
    if (curves) {
      std::fputs(msg.c_str() + eol + 1, curves);
      std::fflush(curves);
    }
    // Columns of the row: 0 nodes, 1 seed, 2 gossip_ms, 3 bound, 4-6 join, 7-9 rumor, 10-12
    // suspect, 13-15 dead, 16-18 dead from first.
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) f.push_back(cell);
    auto q = [&](size_t k) { return f.size() > k + 2 ? f[k] + "/" + f[k + 1] + "/" + f[k + 2] : std::string("?"); };
    std::printf("%6zu %7.1f %7.1f %8.0f %9.0f %9.1f  %-17s %-17s %-17s %-17s %s\n", n, wall, cpu, peak / 1e6, peak / nd,
                peak / (nd * nd), q(4).c_str(), q(7).c_str(), q(13).c_str(), q(16).c_str(),
                f.size() > 3 ? f[3].c_str() : "?");
    std::fflush(stdout);
  }
  if (out) std::fclose(out);
  if (curves) std::fclose(curves);
  return failures == 0 ? 0 : 1;
}
