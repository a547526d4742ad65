package main

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics and parses it with Prometheus' own text parser (which rejects a wrong or
// repeated TYPE line, a bad name, a bad label or value).
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: not Prometheus text format: %v", err)
	}
	return fams
}

// value is the sum of a family's series whose labels include want (counter, gauge, or a
// summary's count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	sum, found := 0.0, false
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			ok := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					ok = true
				}
			}
			if !ok {
				continue next
			}
		}
		found = true
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			sum += m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			sum += m.GetGauge().GetValue()
		case dto.MetricType_SUMMARY:
			sum += float64(m.GetSummary().GetSampleCount())
		}
	}
	return sum, found
}

// TestMetrics: GET /metrics serves memberlist's metrics in Prometheus' text format with the
// right types (udp/tcp bytes and the message counters as counters, the health score and the
// node counts by state as gauges, the broadcast queue as a summary), and the traffic between
// two agents moves the counters.
func TestMetrics(t *testing.T) {
	a := startAgent(t, "a")
	am := a.waitLine(startRe, 10*time.Second)
	b := startAgent(t, "b", "--join", am[2])
	b.waitLine(`joined 1 node`, 10*time.Second)

	types := map[string]dto.MetricType{
		"memberlist_udp_sent_total":     dto.MetricType_COUNTER,
		"memberlist_udp_received_total": dto.MetricType_COUNTER,
		"memberlist_tcp_accept_total":   dto.MetricType_COUNTER,
		"memberlist_msg_alive_total":    dto.MetricType_COUNTER,
	}
	if !onRealMemberlist() {
		// hashicorp/memberlist sets these only when they change (the score) or at a push/pull
		// (the counts); libmemberlist's package every second.
		types["memberlist_health_score"] = dto.MetricType_GAUGE
		types["memberlist_node_instances"] = dto.MetricType_GAUGE
	}
	var first map[string]*dto.MetricFamily
	waitCond(t, "a's /metrics to have memberlist's counters and gauges", 20*time.Second, func() (bool, string) {
		first = scrape(t, am[3])
		for n := range types {
			if first[n] == nil {
				return false, "no " + n
			}
		}
		if onRealMemberlist() {
			return true, ""
		}
		alive, _ := value(first, "memberlist_node_instances", map[string]string{"node_state": "alive"})
		return alive == 2, fmt.Sprintf("node_instances{node_state=alive} = %v", alive)
	})
	for n, typ := range types {
		if got := first[n].GetType(); got != typ {
			t.Errorf("%s: TYPE %v, want %v", n, got, typ)
		}
	}
	for _, f := range first {
		if !strings.HasPrefix(f.GetName(), "memberlist_") {
			t.Errorf("unexpected family %s", f.GetName())
		}
	}
	sent0, _ := value(first, "memberlist_udp_sent_total", nil)
	recv0, _ := value(first, "memberlist_udp_received_total", nil)
	// Probes and gossip keep flowing between the two agents.
	waitCond(t, "the UDP counters to move", 20*time.Second, func() (bool, string) {
		now := scrape(t, am[3])
		sent, _ := value(now, "memberlist_udp_sent_total", nil)
		recv, _ := value(now, "memberlist_udp_received_total", nil)
		return sent > sent0 && recv > recv0, fmt.Sprintf("udp sent %v -> %v, received %v -> %v", sent0, sent, recv0, recv)
	})
	b.signalAndWait(syscall.SIGINT, 15*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
}

// TestPromSinkExposition: odd go-metrics keys and label values still give valid exposition
// (sanitized names, escaped values, one TYPE per family even when a counter, a gauge and a
// sample share a key), as Prometheus' parser reads it.
func TestPromSinkExposition(t *testing.T) {
	s := newPromSink()
	s.IncrCounterWithLabels([]string{"memberlist", "udp.sent"}, 2, []metrics.Label{{Name: "peer-name", Value: "a \"b\"\n\\c"}})
	s.IncrCounterWithLabels([]string{"memberlist", "udp.sent"}, 3, []metrics.Label{{Name: "peer-name", Value: "a \"b\"\n\\c"}})
	s.SetGauge([]string{"9lives", "x-y"}, 1.5)
	s.AddSample([]string{"shared"}, 4)
	s.AddSample([]string{"shared"}, 6)
	s.SetGauge([]string{"shared"}, 7)
	s.IncrCounter([]string{"shared"}, 1)
	var b strings.Builder
	if err := s.write(&b); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("not valid exposition: %v\n%s", err, b.String())
	}
	want := map[string]dto.MetricType{
		"memberlist_udp_sent_total": dto.MetricType_COUNTER,
		"_9lives_x_y":               dto.MetricType_GAUGE,
		"shared":                    dto.MetricType_SUMMARY,
		"shared_gauge":              dto.MetricType_GAUGE,
		"shared_total":              dto.MetricType_COUNTER,
	}
	if len(fams) != len(want) {
		t.Errorf("families %v, want %v\n%s", len(fams), want, b.String())
	}
	for n, typ := range want {
		if fams[n] == nil || fams[n].GetType() != typ {
			t.Errorf("%s: want a %v family\n%s", n, typ, b.String())
		}
	}
	if v, ok := value(fams, "memberlist_udp_sent_total", map[string]string{"peer_name": "a \"b\"\n\\c"}); !ok || v != 5 {
		t.Errorf("counter with an escaped label: %v %v\n%s", v, ok, b.String())
	}
	if f := fams["shared"]; f != nil && f.GetMetric()[0].GetSummary().GetSampleSum() != 10 {
		t.Errorf("summary sum: %v", f.GetMetric()[0].GetSummary())
	}
}
