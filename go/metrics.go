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

// metricsPump emits memberlist's go-metrics (with Config.MetricLabels) from libmemberlist's
// counters: counters as deltas every metricsInterval, gauges (health score, node instances by
// state) at the same pace, and the broadcast queue depth sampled every QueueCheckInterval.
// memberlist emits counters at each event; here they arrive aggregated per interval. Its timers
// (memberlist.probeNode, memberlist.gossip, memberlist.pushPullNode) and the memberlist.size.local
// gauge are recorded per event by libmemberlist and emitted at the same pace, one per event, each
// timer with the duration libmemberlist measured. memberlist.size.remote (a sample memberlist
// emits only for encrypted push/pull) is not emitted.
type metricsPump struct {
	m      *Memberlist
	labels []metrics.Label
	last   map[string]float64
	names  map[string]string // metric names seen, interned (run goroutine only)
	done   chan struct{}
	wg     sync.WaitGroup
}

// counters maps memberlist's counter names to libmemberlist's (memberlist counts bytes for
// udp/tcp sent and udp received).
var counterSources = []struct {
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

func startMetrics(m *Memberlist) *metricsPump {
	p := &metricsPump{m: m, labels: m.config.MetricLabels, last: map[string]float64{}, names: map[string]string{},
		done: make(chan struct{})}
	p.wg.Add(1)
	go p.run(m.config.QueueCheckInterval)
	return p
}

func (p *metricsPump) stop() {
	close(p.done)
	p.wg.Wait()
}

// timerKeys are memberlist's per-event timers, by libmemberlist's sample name.
var timerKeys = map[string][]string{
	"memberlist.probeNode":    {"memberlist", "probeNode"},
	"memberlist.gossip":       {"memberlist", "gossip"},
	"memberlist.pushPullNode": {"memberlist", "pushPullNode"},
}

// emitSamples drains libmemberlist's per-event samples and emits them as memberlist does: timers
// through MeasureSince (so a sink sees a timer, in milliseconds) and the local state size as a
// gauge.
func (p *metricsPump) emitSamples() {
	var buf [256]C.mlgo_metric_t // libmemberlist keeps at most 256 between reads
	var n C.size_t
	if err := p.m.withC(func(c *C.ml_memberlist_t) error {
		return cError("metric samples", C.mlgo_metric_samples(c, &buf[0], C.size_t(len(buf)), &n), nil)
	}); err != nil {
		return
	}
	now := time.Now()
	for i := 0; i < int(n); i++ {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[i].name[0])), len(buf[i].name))
		if z := bytes.IndexByte(b, 0); z >= 0 {
			b = b[:z]
		}
		v := float64(buf[i].value)
		if key, ok := timerKeys[string(b)]; ok {
			metrics.MeasureSinceWithLabels(key, now.Add(-time.Duration(v*float64(time.Millisecond))), p.labels)
		} else if string(b) == "memberlist.size.local" {
			metrics.SetGaugeWithLabels([]string{"memberlist", "size", "local"}, float32(v), p.labels)
		}
	}
}

// read returns libmemberlist's counters and gauges, or nil once the node is gone. One cgo call
// copies every value out (a callback into Go per value cost more than the rest of the read).
func (p *metricsPump) read() map[string]float64 {
	var buf [96]C.mlgo_metric_t
	var n C.size_t
	if err := p.m.withC(func(c *C.ml_memberlist_t) error {
		return cError("metrics", C.mlgo_metrics(c, &buf[0], C.size_t(len(buf)), &n), nil)
	}); err != nil {
		return nil
	}
	values := make(map[string]float64, int(n))
	for i := 0; i < int(n); i++ {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[i].name[0])), len(buf[i].name))
		if z := bytes.IndexByte(b, 0); z >= 0 {
			b = b[:z]
		}
		name, ok := p.names[string(b)] // interned: the lookup allocates nothing
		if !ok {
			name = string(b)
			p.names[name] = name
		}
		values[name] = float64(buf[i].value)
	}
	return values
}

// run reads once per metricsInterval and emits the counters and gauges; the broadcast queue
// sample rides on the same read whenever QueueCheckInterval has passed (a second ticker and read
// would wake the node's loop twice as often). A QueueCheckInterval shorter than metricsInterval
// gets a ticker of its own.
func (p *metricsPump) run(queueInterval time.Duration) {
	defer p.wg.Done()
	tick := time.NewTicker(metricsInterval)
	defer tick.Stop()
	var queueTick <-chan time.Time
	if queueInterval > 0 && queueInterval < metricsInterval {
		qt := time.NewTicker(queueInterval)
		defer qt.Stop()
		queueTick = qt.C
	}
	nextQueue := time.Now().Add(queueInterval)
	sampleQueue := func(v map[string]float64) {
		metrics.AddSampleWithLabels([]string{"memberlist", "queue", "broadcasts"},
			float32(v["memberlist.queue.broadcasts"]), p.labels)
	}
	for {
		select {
		case <-p.done:
			return
		case now := <-tick.C:
			v := p.read()
			if v == nil {
				continue
			}
			p.emit(v)
			p.emitSamples()
			if queueInterval >= metricsInterval && !now.Before(nextQueue.Add(-metricsInterval/2)) {
				sampleQueue(v)
				nextQueue = nextQueue.Add(queueInterval)
			}
		case <-queueTick:
			if v := p.read(); v != nil {
				sampleQueue(v)
			}
		}
	}
}

func (p *metricsPump) emit(v map[string]float64) {
	for _, c := range counterSources {
		cur := v[c.source]
		if d := cur - p.last[c.source]; d > 0 {
			metrics.IncrCounterWithLabels(c.key, float32(d), p.labels)
		}
		p.last[c.source] = cur
	}
	metrics.SetGaugeWithLabels([]string{"memberlist", "health", "score"}, float32(v["memberlist.health.score"]), p.labels)
	for _, state := range []string{"alive", "suspect", "dead", "left"} {
		labels := append(append([]metrics.Label(nil), p.labels...), metrics.Label{Name: "node_state", Value: state})
		metrics.SetGaugeWithLabels([]string{"memberlist", "node", "instances"}, float32(v["memberlist.node."+state]), labels)
	}
}
