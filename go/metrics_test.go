package memberlist

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

func TestMetrics(t *testing.T) {
	sink := metrics.NewInmemSink(time.Hour, time.Hour)
	cfg := metrics.DefaultConfig("test")
	cfg.EnableHostname = false
	cfg.EnableRuntimeMetrics = false
	if _, err := metrics.NewGlobal(cfg, sink); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = metrics.NewGlobal(cfg, &metrics.BlackholeSink{}) }()

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
