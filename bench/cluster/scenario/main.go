// Command scenario runs one cluster benchmark point: N memberlist nodes in this process, joined,
// converged, measured idle (and optionally under a message workload), then one node killed and
// one leaving. It is written only against hashicorp/memberlist's exported API and built twice
// from this source: on hashicorp/memberlist v0.7.0 (go.real.mod) and on libmemberlist's Go
// package (go.mod, a replace line). bench/run_cluster.sh runs both and tabulates the rows.
//
// Output: TSV on stdout. A line starting "impl\t" is a header; the rows after it use its columns.
// Progress goes to stderr. The exit code is 0 for every measured outcome (a cluster that does not
// converge is a result, written in the status column); non-zero only for a harness error.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/hashicorp/memberlist"
)

var (
	flagN        = flag.Int("n", 32, "cluster size")
	flagImpl     = flag.String("impl", "go", "label for the impl column (ours, real)")
	flagJoin     = flag.String("join", "seed", "seed: every node joins node 0; random: a random earlier node")
	flagWindow   = flag.Duration("window", 30*time.Second, "steady-state measurement window")
	flagHold     = flag.Duration("hold", 0, "watch for false suspicion or death this long in total (scale ceiling)")
	flagDeadline = flag.Duration("deadline", 120*time.Second, "deadline for join, convergence, drain, detection")
	flagRep      = flag.Int("rep", 1, "repetition number, for the rep column")
	flagNet      = flag.Int("net", 30, "second octet of the 127.A.x.y addresses")
	flagPort     = flag.Int("port", 7946, "port every node binds")
	flagHeader   = flag.Bool("header", false, "print the header line before each kind of row")
	flagWorkload = flag.Bool("workload", false, "after the idle window, run the message workload")
	flagSenders  = flag.Int("senders", 4, "sending nodes in the message workload")
	flagDelegate = flag.Bool("delegate", true, "set Config.Delegate (false: no GetBroadcasts per gossip, no workload)")
)

var start = time.Now()

func since(t time.Time) float64 { return time.Since(t).Seconds() }

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%7.1fs] %s n=%d: %s\n", since(start), *flagImpl, *flagN, fmt.Sprintf(format, args...))
}

// ---- per-node state, fed by the delegates -------------------------------------------------------

type node struct {
	idx   int
	name  string
	ml    *memberlist.Memberlist
	alive atomic.Int32 // NotifyJoin − NotifyLeave (the local node included)
	saw   atomic.Bool  // saw NotifyLeave for the watched node
	bq    *memberlist.TransmitLimitedQueue
	h     *harness

	seenMu sync.Mutex
	seen   map[uint64]bool // broadcast ids received
}

type harness struct {
	nodes    []*node
	watch    atomic.Pointer[string] // name whose departure is being timed
	inWindow atomic.Bool
	deaths   atomic.Int64 // NotifyLeave during the window
	suspects atomic.Int64 // "Suspect ... has failed" / "Marking ... as failed" log lines in the window
	// Where messages are lost, from the log (both implementations log these drops): datagrams
	// a node's handoff queue refused ("handler queue full"), and datagrams our transport's send
	// queue refused ("send queue full, N datagrams dropped", logged at most once a second).
	handoffFull   atomic.Int64
	sendQueueDrop atomic.Int64
	lat           latencies
	queue         queueDepths
}

func (n *node) NotifyJoin(*memberlist.Node) { n.alive.Add(1) }
func (n *node) NotifyLeave(m *memberlist.Node) {
	n.alive.Add(-1)
	if w := n.h.watch.Load(); w != nil && m.Name == *w {
		n.saw.Store(true)
	}
	if n.h.inWindow.Load() {
		n.h.deaths.Add(1)
	}
}
func (n *node) NotifyUpdate(*memberlist.Node) {}

func (n *node) NodeMeta(int) []byte { return nil }
func (n *node) NotifyMsg(b []byte) {
	if len(b) < 16 {
		return
	}
	sent := int64(binary.BigEndian.Uint64(b[8:16]))
	if b[0] == 'B' { // a broadcast: count each id once per node
		id := binary.BigEndian.Uint64(b[0:8]) & 0x00ffffffffffffff
		n.seenMu.Lock()
		dup := n.seen[id]
		n.seen[id] = true
		n.seenMu.Unlock()
		if dup {
			return
		}
	}
	n.h.lat.add(time.Since(start).Nanoseconds() - sent)
}
func (n *node) GetBroadcasts(overhead, limit int) [][]byte {
	return n.bq.GetBroadcasts(overhead, limit)
}
func (n *node) LocalState(bool) []byte                 { return nil }
func (n *node) MergeRemoteState(buf []byte, join bool) {}

type userBroadcast []byte

func (b userBroadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b userBroadcast) Message() []byte                       { return b }
func (b userBroadcast) Finished()                             {}

// logCounter counts the log lines that mean a suspicion or a death, while the window is open.
type logCounter struct{ h *harness }

func (l logCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("handler queue full")) {
		l.h.handoffFull.Add(1)
	}
	if i := bytes.Index(p, []byte("send queue full, ")); i >= 0 {
		f := strings.Fields(string(p[i+len("send queue full, "):]))
		if len(f) > 0 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				l.h.sendQueueDrop.Add(n)
			}
		}
	}
	if l.h.inWindow.Load() {
		if (bytes.Contains(p, []byte("Suspect ")) && bytes.Contains(p, []byte("has failed"))) ||
			(bytes.Contains(p, []byte("Marking ")) && bytes.Contains(p, []byte("as failed"))) {
			l.h.suspects.Add(1)
			os.Stderr.Write(p) // the run's log shows which nodes and when
		}
	}
	return len(p), nil
}

// ---- broadcast queue depth: memberlist's own gauge, per node ----------------------------------

// queueDepths is a go-metrics sink that keeps only memberlist.queue.broadcasts per node label,
// with the time of the sample, so the harness can wait until the join's broadcasts drained.
type queueDepths struct {
	mu    sync.Mutex
	depth map[string]float32
	at    map[string]time.Time
}

func (q *queueDepths) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	if len(key) < 3 || key[len(key)-1] != "broadcasts" || key[len(key)-2] != "queue" {
		return
	}
	for _, l := range labels {
		if l.Name == "node" {
			q.mu.Lock()
			q.depth[l.Value] = val
			q.at[l.Value] = time.Now()
			q.mu.Unlock()
		}
	}
}
func (q *queueDepths) SetGauge([]string, float32)                               {}
func (q *queueDepths) SetGaugeWithLabels([]string, float32, []metrics.Label)    {}
func (q *queueDepths) EmitKey([]string, float32)                                {}
func (q *queueDepths) IncrCounter([]string, float32)                            {}
func (q *queueDepths) IncrCounterWithLabels([]string, float32, []metrics.Label) {}
func (q *queueDepths) AddSample([]string, float32)                              {}

// drained reports whether every node reported an empty queue in a sample taken after t, and the
// total depth of the latest samples.
func (q *queueDepths) drained(names []string, t time.Time) (bool, float32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ok := true
	var total float32
	for _, n := range names {
		total += q.depth[n]
		if q.depth[n] != 0 || !q.at[n].After(t) {
			ok = false
		}
	}
	return ok, total
}

// ---- latencies --------------------------------------------------------------------------------

type latencies struct {
	mu sync.Mutex
	ns []int64
}

func (l *latencies) add(v int64) {
	l.mu.Lock()
	if len(l.ns) < 4<<20 {
		l.ns = append(l.ns, v)
	}
	l.mu.Unlock()
}

func (l *latencies) take() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.ns
	l.ns = nil
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v
}

func pct(v []int64, p float64) string {
	if len(v) == 0 {
		return "-"
	}
	i := int(p * float64(len(v)-1))
	return strconv.FormatFloat(float64(v[i])/1e6, 'f', 3, 64)
}

// ---- process measures -------------------------------------------------------------------------

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func rssKB() float64 { return statusKB("VmRSS:") }

// statusKB reads one "Name:  N kB" line of /proc/self/status.
func statusKB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				return v
			}
		}
	}
	return 0
}

func addr(i int) string {
	return fmt.Sprintf("127.%d.%d.%d", *flagNet, i/250, i%250+1)
}

// waitFor polls cond every 20 ms until it holds or the deadline passes.
func waitFor(deadline time.Duration, cond func() bool) bool {
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// ---- the scenario ------------------------------------------------------------------------------

type row struct {
	create, join, converge, settle, window, cpu, rss, detect, leave string
	status                                                          string
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func main() {
	flag.Parse()
	if *flagN < 4 {
		fmt.Fprintln(os.Stderr, "scenario: -n must be at least 4")
		os.Exit(2)
	}
	if *flagJoin != "seed" && *flagJoin != "random" {
		fmt.Fprintln(os.Stderr, "scenario: -join must be seed or random")
		os.Exit(2)
	}
	h := &harness{queue: queueDepths{depth: map[string]float32{}, at: map[string]time.Time{}}}
	mc := metrics.DefaultConfig("bench")
	mc.EnableHostname = false
	mc.EnableRuntimeMetrics = false
	if _, err := metrics.NewGlobal(mc, &h.queue); err != nil {
		fmt.Fprintln(os.Stderr, "scenario: go-metrics:", err)
		os.Exit(2)
	}

	r := row{create: "-", join: "-", converge: "-", settle: "-", window: "-", cpu: "-", rss: "-", detect: "-", leave: "-"}
	defer func() {
		if *flagHeader {
			fmt.Println("impl\tn\trep\tjoin\tcreate_s\tjoin_s\tconverge_s\tsettle_s\twindow_s\tcpu_s_node_min\trss_kb_node\tsuspects\tdeaths\tdetect_s\tleave_s\tstatus")
		}
		fmt.Printf("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", *flagImpl, *flagN, *flagRep, *flagJoin,
			r.create, r.join, r.converge, r.settle, r.window, r.cpu, r.rss, h.suspects.Load(), h.deaths.Load(), r.detect, r.leave, r.status)
	}()

	runtime.GC()
	rss0 := rssKB()
	anon0, file0 := statusKB("RssAnon:"), statusKB("RssFile:")
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	N := *flagN
	rng := rand.New(rand.NewSource(int64(*flagRep)))
	t0 := time.Now()
	live := make([]*node, 0, N)
	defer func() {
		progress("shutting down %d nodes", len(live))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for _, n := range live {
			wg.Add(1)
			sem <- struct{}{}
			go func(n *node) {
				defer wg.Done()
				_ = n.ml.Shutdown()
				<-sem
			}(n)
		}
		wg.Wait()
	}()

	for i := 0; i < N; i++ {
		n := &node{idx: i, name: fmt.Sprintf("n%05d", i), h: h, seen: map[uint64]bool{}}
		c := memberlist.DefaultLANConfig()
		c.Name = n.name
		c.BindAddr = addr(i)
		c.BindPort = *flagPort
		c.AdvertisePort = *flagPort
		c.Events = n
		if *flagDelegate {
			c.Delegate = n
		}
		c.LogOutput = logCounter{h}
		c.QueueCheckInterval = time.Second
		c.MetricLabels = []metrics.Label{{Name: "node", Value: n.name}}
		n.bq = &memberlist.TransmitLimitedQueue{NumNodes: func() int { return N }, RetransmitMult: c.RetransmitMult}
		ml, err := memberlist.Create(c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scenario: create %s: %v\n", n.name, err)
			r.status = "createfail"
			return
		}
		n.ml = ml
		live = append(live, n)
		h.nodes = append(h.nodes, n)
	}
	r.create = f3(since(t0))
	progress("created in %s s", r.create)

	t1 := time.Now()
	for i := 1; i < N; i++ {
		target := 0
		if *flagJoin == "random" {
			target = rng.Intn(i)
		}
		if _, err := h.nodes[i].ml.Join([]string{net.JoinHostPort(addr(target), strconv.Itoa(*flagPort))}); err != nil {
			progress("join of node %d failed: %v", i, err)
		}
		if time.Since(t1) > *flagDeadline {
			progress("joins passed the deadline after %d nodes", i)
			r.join = f3(since(t1))
			r.status = "nojoin"
			return
		}
		if i%256 == 0 {
			progress("%d joined", i)
		}
	}
	r.join = f3(since(t1))
	progress("joined in %s s", r.join)

	allAlive := func(want int32, set []*node) func() bool {
		return func() bool {
			for _, n := range set {
				if n.alive.Load() != want {
					return false
				}
			}
			return true
		}
	}
	if !waitFor(*flagDeadline, allAlive(int32(N), h.nodes)) {
		r.status = "noconverge"
		progress("did not converge")
		return
	}
	r.converge = f3(since(t0))
	progress("converged at %s s", r.converge)

	// The join's broadcasts: wait until every node's own gauge says its queue is empty.
	names := make([]string, N)
	for i, n := range h.nodes {
		names[i] = n.name
	}
	t2 := time.Now()
	var left float32
	if !waitFor(*flagDeadline, func() bool { ok, tot := h.queue.drained(names, t2); left = tot; return ok }) {
		progress("broadcast queues not drained (%v left); measuring anyway", left)
		r.settle = "-"
	} else {
		r.settle = f3(since(t2))
		progress("broadcasts drained in %s s", r.settle)
	}

	// Idle window.
	runtime.GC()
	h.inWindow.Store(true)
	c0, w0 := cpuSeconds(), time.Now()
	time.Sleep(*flagWindow)
	c1, w1 := cpuSeconds(), time.Now()
	win := w1.Sub(w0).Seconds()
	r.window = f3(win)
	r.cpu = strconv.FormatFloat((c1-c0)/float64(N)/(win/60), 'f', 4, 64)
	r.rss = strconv.FormatFloat((rssKB()-rss0)/float64(N), 'f', 0, 64)
	progress("idle window: %s CPU s/node/min, %s KB/node", r.cpu, r.rss)
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	perNode := func(a, b uint64) float64 { return (float64(b) - float64(a)) / 1024 / float64(N) }
	// Where the growth is: the Go heap's spans in use, its free spans not yet returned to the OS
	// (resident slack), goroutine stacks and the runtime's own structures; the rest of the
	// anonymous memory is C's (libmemberlist and libuv through malloc), files are code pages.
	progress("RSS growth per node: anonymous %.0f KB, files %.0f KB; of it Go: heap in use %.0f KB, heap kept free %.0f KB, stacks %.0f KB, runtime %.0f KB",
		(statusKB("RssAnon:")-anon0)/float64(N), (statusKB("RssFile:")-file0)/float64(N),
		perNode(ms0.HeapInuse, ms1.HeapInuse), perNode(ms0.HeapIdle-ms0.HeapReleased, ms1.HeapIdle-ms1.HeapReleased),
		perNode(ms0.StackInuse, ms1.StackInuse),
		perNode(ms0.MSpanInuse+ms0.MCacheInuse+ms0.BuckHashSys+ms0.GCSys+ms0.OtherSys, ms1.MSpanInuse+ms1.MCacheInuse+ms1.BuckHashSys+ms1.GCSys+ms1.OtherSys))
	if rest := *flagHold - w1.Sub(w0); rest > 0 {
		progress("holding %s more", rest.Round(time.Second))
		time.Sleep(rest)
	}
	h.inWindow.Store(false)
	r.status = "ok"
	if h.suspects.Load() > 0 || h.deaths.Load() > 0 {
		r.status = "unstable"
	}

	if *flagWorkload && *flagDelegate {
		workload(h, rng)
	}

	// Failure detection: the last node stops without leaving.
	victim := h.nodes[N-1]
	h.watch.Store(&victim.name)
	t3 := time.Now()
	_ = victim.ml.Shutdown()
	live = live[:len(live)-1]
	survivors := h.nodes[:N-1]
	sawAll := func(set []*node) func() bool {
		return func() bool {
			for _, n := range set {
				if !n.saw.Load() {
					return false
				}
			}
			return true
		}
	}
	if waitFor(*flagDeadline, sawAll(survivors)) {
		r.detect = f3(since(t3))
		progress("failure detected everywhere in %s s", r.detect)
	} else if r.status == "ok" {
		r.status = "nodetect"
	}

	// Graceful leave: the second to last node leaves.
	leaver := h.nodes[N-2]
	for _, n := range survivors {
		n.saw.Store(false)
	}
	h.watch.Store(&leaver.name)
	t4 := time.Now()
	if err := leaver.ml.Leave(5 * time.Second); err != nil {
		progress("leave: %v", err)
	}
	_ = leaver.ml.Shutdown()
	live = live[:len(live)-1]
	if waitFor(*flagDeadline, sawAll(h.nodes[:N-2])) {
		r.leave = f3(since(t4))
		progress("leave seen everywhere in %s s", r.leave)
	} else if r.status == "ok" {
		r.status = "noleave"
	}
}

// workload runs the send paths one after the other for the window each and prints a row per
// path: deliveries (rate_per_s = delivered per second of sending), latency percentiles, CPU per
// node while sending. best_effort and reliable send as fast as the call returns (throughput: what
// a saturated cluster delivers, its latency is queueing); the _paced paths send pacedRate
// messages per second per sender (the C harness's rate), far below either side's capacity, so
// their latency compares the paths themselves.
const pacedRate = 2000

func workload(h *harness, rng *rand.Rand) {
	N := len(h.nodes)
	if *flagHeader {
		fmt.Println("impl\tn\trep\tpath\tsent\tdelivered\texpected\tseconds\trate_per_s\tp50_ms\tp99_ms\tcpu_s_node_min")
	}
	senders := *flagSenders
	if senders > N/2 {
		senders = N / 2
	}
	for _, path := range []string{"best_effort", "reliable", "broadcast", "best_effort_paced", "reliable_paced"} {
		h.lat.take()
		var sent atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		c0, w0 := cpuSeconds(), time.Now()
		k0, hf0, sq0 := udpKernelDrops(), h.handoffFull.Load(), h.sendQueueDrop.Load()
		for s := 0; s < senders; s++ {
			wg.Add(1)
			seed := rng.Int63()
			go func(s int, seed int64) {
				defer wg.Done()
				lr := rand.New(rand.NewSource(seed))
				from := h.nodes[s]
				var seq uint64
				msg := make([]byte, 64)
				// broadcast: 10 per second per sender; paced: pacedRate/100 every 10 ms
				period, perTick := 100*time.Millisecond, 0
				paced := strings.HasSuffix(path, "_paced")
				if paced {
					period, perTick = 10*time.Millisecond, pacedRate/100
				}
				tick := time.NewTicker(period)
				defer tick.Stop()
				inTick := 0
				for {
					select {
					case <-stop:
						return
					default:
					}
					seq++
					switch path {
					case "broadcast":
						<-tick.C
						binary.BigEndian.PutUint64(msg[8:16], uint64(time.Since(start).Nanoseconds()))
						id := uint64(s)<<32 | seq
						binary.BigEndian.PutUint64(msg[0:8], id)
						msg[0] = 'B'
						from.bq.QueueBroadcast(userBroadcast(append([]byte(nil), msg...)))
						sent.Add(1)
						continue
					}
					if paced {
						if inTick == perTick {
							<-tick.C
							inTick = 0
						}
						inTick++
					}
					i := lr.Intn(N - 1) // anyone but the sender itself
					if i >= s {
						i++
					}
					to := h.nodes[i]
					msg[0] = 'M'
					// Stamped after the pacing wait: latency counts from the call.
					binary.BigEndian.PutUint64(msg[8:16], uint64(time.Since(start).Nanoseconds()))
					var err error
					if strings.HasPrefix(path, "best_effort") {
						err = from.ml.SendBestEffort(to.ml.LocalNode(), msg)
					} else {
						err = from.ml.SendReliable(to.ml.LocalNode(), msg)
					}
					if err == nil {
						sent.Add(1)
					}
				}
			}(s, seed)
		}
		time.Sleep(*flagWindow)
		close(stop)
		wg.Wait()
		c1, secs := cpuSeconds(), since(w0)
		// Let the last messages arrive (reliable ones and broadcasts still in flight).
		var got []int64
		var n0 int
		waitFor(5*time.Second, func() bool {
			h.lat.mu.Lock()
			n := len(h.lat.ns)
			h.lat.mu.Unlock()
			stable := n == n0 && n > 0
			n0 = n
			time.Sleep(200 * time.Millisecond)
			return stable
		})
		got = h.lat.take()
		expected := sent.Load()
		if path == "broadcast" {
			expected *= int64(N - 1)
		}
		fmt.Printf("%s\t%d\t%d\t%s\t%d\t%d\t%d\t%.3f\t%.1f\t%s\t%s\t%.4f\n", *flagImpl, N, *flagRep, path, sent.Load(), len(got),
			expected, secs, float64(len(got))/secs, pct(got, 0.5), pct(got, 0.99), (c1-c0)/float64(N)/(secs/60))
		progress("workload %s: %d sent, %d delivered", path, sent.Load(), len(got))
		// Where the rest went (the kernel's counters are the whole host's: keep it quiet).
		k1 := udpKernelDrops()
		progress("workload %s: lost in the kernel (UDP RcvbufErrors %d, SndbufErrors %d, InErrors %d), handoff queue full %d, our send queue full %d",
			path, k1[0]-k0[0], k1[1]-k0[1], k1[2]-k0[2], h.handoffFull.Load()-hf0, h.sendQueueDrop.Load()-sq0)
	}
}

// udpKernelDrops reads the host's UDP RcvbufErrors, SndbufErrors and InErrors (/proc/net/snmp);
// zeros where it cannot.
func udpKernelDrops() [3]int64 {
	var out [3]int64
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return out
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, v := range f {
			if i >= len(names) {
				break
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			switch names[i] {
			case "RcvbufErrors":
				out[0] = n
			case "SndbufErrors":
				out[1] = n
			case "InErrors":
				out[2] = n
			}
		}
		break
	}
	return out
}
