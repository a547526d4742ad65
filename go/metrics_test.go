package memberlist

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// useSink makes sink go-metrics' global sink (prefix "test", no host name, no runtime metrics)
// until the test ends.
func useSink(t *testing.T, sink metrics.MetricSink) {
	t.Helper()
	cfg := metrics.DefaultConfig("test")
	cfg.EnableHostname = false
	cfg.EnableRuntimeMetrics = false
	if _, err := metrics.NewGlobal(cfg, sink); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = metrics.NewGlobal(cfg, &metrics.BlackholeSink{}) })
}

func TestMetrics(t *testing.T) {
	sink := metrics.NewInmemSink(time.Hour, time.Hour)
	useSink(t, sink)

	label := metrics.Label{Name: "segment", Value: "alpha"}
	c1 := testConfig(t)
	c1.MetricLabels = []metrics.Label{label}
	c1.QueueCheckInterval = 100 * time.Millisecond
	m1 := create(t, c1)
	// m2's QueueCheckInterval is a whole number of metric reads: its sample rides on a read.
	c2 := testConfig(t)
	c2.MetricLabels = []metrics.Label{{Name: "segment", Value: "beta"}}
	c2.QueueCheckInterval = time.Second
	m2 := createPeer(t, m1, c2)
	if _, err := m2.Join([]string{joinAddr(m1)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"test.memberlist.queue.broadcasts;segment=alpha",                // sample, every QueueCheckInterval
		"test.memberlist.tcp.accept;segment=alpha",                      // counter: m2's join stream
		"test.memberlist.node.instances;segment=alpha;node_state=alive", // gauge
		"test.memberlist.health.score;segment=alpha",
		"test.memberlist.queue.broadcasts;segment=beta",
		// memberlist's per-event timers (a sink sees timers as samples) and the size gauge.
		"test.memberlist.gossip;segment=alpha",
		"test.memberlist.probeNode;segment=alpha",
		"test.memberlist.pushPullNode;segment=beta", // m2's join
		"test.memberlist.size.local;segment=alpha",  // m1's answer to that join
	}
	waitFor(t, "go-metrics from the node", func() (bool, string) {
		var have []string
		for _, iv := range sink.Data() {
			iv.RLock()
			for k := range iv.Counters {
				have = append(have, k)
			}
			for k := range iv.Gauges {
				have = append(have, k)
			}
			for k := range iv.Samples {
				have = append(have, k)
			}
			iv.RUnlock()
		}
		all := strings.Join(have, " ")
		for _, w := range want {
			if !strings.Contains(all, w) {
				return false, fmt.Sprintf("missing %s in %v", w, have)
			}
		}
		return true, ""
	})
	// A probe lasts at most a probe period (1 s in the test config, scaled under load); the
	// timers carry libmemberlist's measured durations in milliseconds, not zeros.
	for _, iv := range sink.Data() {
		iv.RLock()
		for k, s := range iv.Samples {
			if strings.HasPrefix(k, "test.memberlist.probeNode;") && (s.Min < 0 || s.Max > 60000 || s.Sum <= 0) {
				t.Errorf("%s: min %v max %v sum %v ms", k, s.Min, s.Max, s.Sum)
			}
		}
		iv.RUnlock()
	}
}

// lockingSink is a go-metrics sink that takes the application's lock on every call, as a sink
// that aggregates into the application's own state does.
type lockingSink struct {
	mu      *sync.Mutex
	waiting atomic.Bool // a call is waiting for mu
}

func (s *lockingSink) take() {
	s.waiting.Store(true)
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // the lock is the point, not a critical section
}
func (s *lockingSink) SetGauge([]string, float32)                                     { s.take() }
func (s *lockingSink) SetGaugeWithLabels([]string, float32, []metrics.Label)          { s.take() }
func (s *lockingSink) SetPrecisionGauge([]string, float64)                            { s.take() }
func (s *lockingSink) SetPrecisionGaugeWithLabels([]string, float64, []metrics.Label) { s.take() }
func (s *lockingSink) EmitKey([]string, float32)                                      { s.take() }
func (s *lockingSink) IncrCounter([]string, float32)                                  { s.take() }
func (s *lockingSink) IncrCounterWithLabels([]string, float32, []metrics.Label)       { s.take() }
func (s *lockingSink) AddSample([]string, float32)                                    { s.take() }
func (s *lockingSink) AddSampleWithLabels([]string, float32, []metrics.Label)         { s.take() }

// A go-metrics sink is user code: Shutdown, called with a lock held that the sink takes, returns
// while the metrics goroutine waits in the sink (memberlist's Shutdown waits for no metric
// either). The shared metrics goroutine then ends once the last node is gone.
func TestMetricsShutdownDoesNotWaitForTheSink(t *testing.T) {
	var appLock sync.Mutex
	sink := &lockingSink{mu: &appLock}
	useSink(t, sink)

	c := testConfig(t)
	c.QueueCheckInterval = 50 * time.Millisecond
	m := create(t, c)
	appLock.Lock()
	sink.waiting.Store(false)
	waitFor(t, "the metrics goroutine to wait in the sink", func() (bool, string) {
		return sink.waiting.Load(), "no metric emitted"
	})
	done := make(chan error, 1)
	go func() { done <- m.Shutdown() }()
	select {
	case err := <-done:
		appLock.Unlock()
		if err != nil {
			t.Error(err)
		}
	case <-time.After(waitTimeout):
		t.Error("Shutdown waited for a go-metrics sink blocked on the caller's lock")
		appLock.Unlock()
		<-done
	}
	waitFor(t, "the metrics goroutine to end with the last node", func() (bool, string) {
		running, nodes := metricsHubState()
		return !running && nodes == 0, fmt.Sprintf("running %v with %d nodes", running, nodes)
	})
}

// With two nodes of different QueueCheckIntervals the one goroutine samples each at its own
// pace: the 100 ms node many times for each sample of the 1 s node.
func TestMetricsQueueSamplesAtEachNodesInterval(t *testing.T) {
	sink := metrics.NewInmemSink(time.Hour, time.Hour)
	useSink(t, sink)
	c1 := testConfig(t)
	c1.MetricLabels = []metrics.Label{{Name: "n", Value: "fast"}}
	c1.QueueCheckInterval = 100 * time.Millisecond
	create(t, c1)
	c2 := testConfig(t)
	c2.MetricLabels = []metrics.Label{{Name: "n", Value: "slow"}}
	c2.QueueCheckInterval = time.Second
	create(t, c2)
	count := func(label string) int {
		n := 0
		for _, iv := range sink.Data() {
			iv.RLock()
			if s, ok := iv.Samples["test.memberlist.queue.broadcasts;n="+label]; ok {
				n += s.Count
			}
			iv.RUnlock()
		}
		return n
	}
	waitFor(t, "three samples of the 1 s node", func() (bool, string) {
		return count("slow") >= 3, fmt.Sprintf("%d", count("slow"))
	})
	// About 10 to 1; a loaded machine skips ticks of both alike.
	if fast, slow := count("fast"), count("slow"); fast < 3*slow {
		t.Errorf("queue samples: %d of the 100 ms node, %d of the 1 s node", fast, slow)
	}
}

// metricsHubState reports whether the metrics goroutine runs and how many nodes it reads.
func metricsHubState() (running bool, nodes int) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	return hub.running, len(hub.nodes)
}
