package memberlist

/*
#include "bridge.h"
*/
import "C"

import (
	"bytes"
	"sync"
	"time"
	"unsafe"

	metrics "github.com/hashicorp/go-metrics"
)

// metricsInterval is how often libmemberlist's counters are read and turned into go-metrics.
const metricsInterval = time.Second

// metricsPump emits one node's memberlist go-metrics (with Config.MetricLabels) from
// libmemberlist's counters: counters as deltas every metricsInterval, gauges (health score, node
// instances by state) at the same pace, and the broadcast queue depth sampled every
// QueueCheckInterval. memberlist emits counters at each event; here they arrive aggregated per
// interval. Its timers (memberlist.probeNode, memberlist.gossip, memberlist.pushPullNode) and the
// memberlist.size.local gauge are recorded per event by libmemberlist and emitted at the same
// pace, one per event, each timer with the duration libmemberlist measured.
// memberlist.size.remote (a sample memberlist emits only for encrypted push/pull) is not emitted.
//
// Every node of the process is read by one goroutine (metricsHub), not one each: a goroutine,
// its tickers and its buffers per node cost more memory than the node's member table at a few
// hundred nodes in one process. The pump itself is only the node's schedule and last counters.
type metricsPump struct {
	m             *Memberlist
	labels        []metrics.Label
	queueInterval time.Duration
	// Owned by the hub goroutine.
	last        [len(counterSources)]float64
	nextMetrics time.Time
	nextQueue   time.Time
}

// counterSources maps memberlist's counter names to libmemberlist's (memberlist counts bytes for
// udp/tcp sent and udp received).
var counterSources = [...]struct {
	key    []string
	source string
}{
	{[]string{"memberlist", "udp", "sent"}, "memberlist.udp.sent_bytes"},
	{[]string{"memberlist", "udp", "received"}, "memberlist.udp.received_bytes"},
	{[]string{"memberlist", "tcp", "sent"}, "memberlist.tcp.sent_bytes"},
	{[]string{"memberlist", "tcp", "accept"}, "memberlist.tcp.accept"},
	{[]string{"memberlist", "tcp", "connect"}, "memberlist.tcp.connect"},
	{[]string{"memberlist", "msg", "alive"}, "memberlist.msg.alive"},
	{[]string{"memberlist", "msg", "suspect"}, "memberlist.msg.suspect"},
	{[]string{"memberlist", "msg", "dead"}, "memberlist.msg.dead"},
	{[]string{"memberlist", "degraded", "probe"}, "memberlist.degraded.probe"},
	{[]string{"memberlist", "degraded", "timeout"}, "memberlist.degraded.timeout"},
}

// metricsHub is the one goroutine that reads every node's metrics. It runs while at least one
// node is registered and exits when the last one is removed; its tick is metricsInterval, or the
// shortest QueueCheckInterval of the registered nodes if that is shorter.
type metricsHub struct {
	mu      sync.Mutex
	nodes   map[*metricsPump]struct{}
	running bool
	changed chan struct{} // the node set changed: recompute the tick, or exit when empty

	// The hub goroutine's own: the copy buffers (reused, so reading allocates nothing), the
	// values of the node being read and the interned metric names.
	buf     [96]C.mlgo_metric_t
	samples [256]C.mlgo_metric_t // libmemberlist keeps at most 256 between reads
	values  map[string]float64
	names   map[string]string
	list    []*metricsPump
}

var hub = metricsHub{nodes: map[*metricsPump]struct{}{}, changed: make(chan struct{}, 1),
	values: map[string]float64{}, names: map[string]string{}}

// startMetrics registers m with the hub (starting the hub's goroutine if it is not running).
func startMetrics(m *Memberlist) *metricsPump {
	now := time.Now()
	p := &metricsPump{m: m, labels: m.config.MetricLabels, queueInterval: m.config.QueueCheckInterval,
		nextMetrics: now.Add(metricsInterval), nextQueue: now.Add(m.config.QueueCheckInterval)}
	hub.mu.Lock()
	hub.nodes[p] = struct{}{}
	if !hub.running {
		hub.running = true
		go hub.run()
	}
	hub.mu.Unlock()
	hub.signal()
	return p
}

// stop removes the node from the hub. It does not wait: a read of this node already under way may
// still emit its values once (the read itself fails once the node is shut down), as a memberlist
// goroutine still running at Shutdown may emit a metric after it. Shutdown never waits for a
// go-metrics sink.
func (p *metricsPump) stop() {
	hub.mu.Lock()
	delete(hub.nodes, p)
	hub.mu.Unlock()
	hub.signal()
}

func (h *metricsHub) signal() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// period is the hub's tick for the registered nodes (h.mu held).
func (h *metricsHub) period() time.Duration {
	d := metricsInterval
	for p := range h.nodes {
		if p.queueInterval > 0 && p.queueInterval < d {
			d = p.queueInterval
		}
	}
	return d
}

func (h *metricsHub) run() {
	h.mu.Lock()
	period := h.period()
	h.mu.Unlock()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-h.changed:
			h.mu.Lock()
			if len(h.nodes) == 0 {
				h.running = false
				h.mu.Unlock()
				return
			}
			if d := h.period(); d != period {
				period = d
				tick.Reset(period)
			}
			h.mu.Unlock()
		case now := <-tick.C:
			h.mu.Lock()
			if len(h.nodes) == 0 {
				h.running = false
				h.mu.Unlock()
				return
			}
			h.list = h.list[:0]
			for p := range h.nodes {
				h.list = append(h.list, p)
			}
			h.mu.Unlock()
			for i, p := range h.list {
				h.tick(p, now, period)
				h.list[i] = nil
			}
		}
	}
}

// tick reads p once if its counters or its queue sample are due (within half a tick).
func (h *metricsHub) tick(p *metricsPump, now time.Time, period time.Duration) {
	slack := period / 2
	dueMetrics := !now.Before(p.nextMetrics.Add(-slack))
	dueQueue := p.queueInterval > 0 && !now.Before(p.nextQueue.Add(-slack))
	if !dueMetrics && !dueQueue {
		return
	}
	if !h.read(p) {
		return
	}
	if dueMetrics {
		p.nextMetrics = next(p.nextMetrics, metricsInterval, now)
		h.emit(p)
		h.emitSamples(p)
	}
	if dueQueue {
		p.nextQueue = next(p.nextQueue, p.queueInterval, now)
		metrics.AddSampleWithLabels([]string{"memberlist", "queue", "broadcasts"},
			float32(h.values["memberlist.queue.broadcasts"]), p.labels)
	}
}

// next is the deadline after t at the given interval, not in the past (a hub held up skips the
// reads it missed rather than catching up in a burst).
func next(t time.Time, interval time.Duration, now time.Time) time.Time {
	t = t.Add(interval)
	if t.Before(now) {
		t = now.Add(interval)
	}
	return t
}

// metricName interns b (the lookup allocates nothing).
func (h *metricsHub) metricName(c *C.mlgo_metric_t) (string, float64) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&c.name[0])), len(c.name))
	if z := bytes.IndexByte(b, 0); z >= 0 {
		b = b[:z]
	}
	name, ok := h.names[string(b)]
	if !ok {
		name = string(b)
		h.names[name] = name
	}
	return name, float64(c.value)
}

// read copies p's counters and gauges into h.values in one cgo call (a callback into Go per value
// cost more than the rest of the read); false once the node is gone.
func (h *metricsHub) read(p *metricsPump) bool {
	var n C.size_t
	if err := p.m.withC(func(c *C.ml_memberlist_t) error {
		return cError("metrics", C.mlgo_metrics(c, &h.buf[0], C.size_t(len(h.buf)), &n), nil)
	}); err != nil {
		return false
	}
	clear(h.values)
	for i := 0; i < int(n); i++ {
		name, v := h.metricName(&h.buf[i])
		h.values[name] = v
	}
	return true
}

func (h *metricsHub) emit(p *metricsPump) {
	v := h.values
	for i, c := range counterSources {
		cur := v[c.source]
		if d := cur - p.last[i]; d > 0 {
			metrics.IncrCounterWithLabels(c.key, float32(d), p.labels)
		}
		p.last[i] = cur
	}
	metrics.SetGaugeWithLabels([]string{"memberlist", "health", "score"}, float32(v["memberlist.health.score"]), p.labels)
	for _, state := range [...]string{"alive", "suspect", "dead", "left"} {
		labels := append(append([]metrics.Label(nil), p.labels...), metrics.Label{Name: "node_state", Value: state})
		metrics.SetGaugeWithLabels([]string{"memberlist", "node", "instances"}, float32(v["memberlist.node."+state]), labels)
	}
}

// emitSamples drains p's per-event samples and emits them as memberlist does: timers through
// MeasureSince (so a sink sees a timer, in milliseconds) and the local state size as a gauge.
func (h *metricsHub) emitSamples(p *metricsPump) {
	var n C.size_t
	if err := p.m.withC(func(c *C.ml_memberlist_t) error {
		return cError("metric samples", C.mlgo_metric_samples(c, &h.samples[0], C.size_t(len(h.samples)), &n), nil)
	}); err != nil {
		return
	}
	now := time.Now()
	for i := 0; i < int(n); i++ {
		name, v := h.metricName(&h.samples[i])
		if key, ok := timerKeys[name]; ok {
			metrics.MeasureSinceWithLabels(key, now.Add(-time.Duration(v*float64(time.Millisecond))), p.labels)
		} else if name == "memberlist.size.local" {
			metrics.SetGaugeWithLabels([]string{"memberlist", "size", "local"}, float32(v), p.labels)
		}
	}
}

// timerKeys are memberlist's per-event timers, by libmemberlist's sample name.
var timerKeys = map[string][]string{
	"memberlist.probeNode":    {"memberlist", "probeNode"},
	"memberlist.gossip":       {"memberlist", "gossip"},
	"memberlist.pushPullNode": {"memberlist", "pushPullNode"},
}
