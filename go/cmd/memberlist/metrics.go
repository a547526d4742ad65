package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	metrics "github.com/hashicorp/go-metrics"
)

// promSink is a go-metrics sink that keeps every metric memberlist emits (counters, gauges,
// samples, with their labels) and writes them in Prometheus' text exposition format (0.0.4) for
// GET /metrics. Names are sanitized: "memberlist.udp.sent" becomes memberlist_udp_sent; a
// counter's name ends in _total; a sample (memberlist's timers and size samples, the queue
// depth) is a summary with _sum and _count and no quantiles.
type promSink struct {
	mu       sync.Mutex
	families map[string]*promFamily
}

type promFamily struct {
	name   string // sanitized, with _total for counters
	source string // the go-metrics key, dotted
	typ    string // counter, gauge, summary
	series map[string]*promSeries
}

type promSeries struct {
	labels string // rendered: {a="x",b="y"}, or ""
	value  float64
	count  uint64
}

func newPromSink() *promSink { return &promSink{families: map[string]*promFamily{}} }

// installMetrics makes the sink go-metrics' global one, which memberlist reports to. Hostname
// prefixes and runtime metrics are off: only what memberlist emits is served.
func installMetrics(s *promSink) error {
	conf := metrics.DefaultConfig("")
	conf.EnableHostname = false
	conf.EnableHostnameLabel = false
	conf.EnableRuntimeMetrics = false
	conf.EnableServiceLabel = false
	conf.EnableTypePrefix = false
	_, err := metrics.NewGlobal(conf, s)
	return err
}

// promName sanitizes a go-metrics key into a Prometheus metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]*.
func promName(s string, colons bool) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (colons && r == ':') || (i > 0 && r >= '0' && r <= '9')
		if !ok && i == 0 && r >= '0' && r <= '9' {
			b.WriteByte('_')
			b.WriteRune(r)
			continue
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func renderLabels(labels []metrics.Label) string {
	if len(labels) == 0 {
		return ""
	}
	ls := append([]metrics.Label(nil), labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	parts := make([]string, 0, len(ls))
	seen := map[string]bool{}
	for _, l := range ls {
		n := promName(l.Name, false)
		if seen[n] || strings.HasPrefix(n, "__") {
			continue
		}
		seen[n] = true
		parts = append(parts, n+`="`+labelValueEscaper.Replace(l.Value)+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// series finds or makes the series of key with labels in a family of type typ. A name already
// used by another type gets the type appended, so every family keeps one TYPE.
func (s *promSink) series(key []string, typ string, labels []metrics.Label) *promSeries {
	source := strings.Join(key, ".")
	name := promName(strings.Join(key, "_"), true)
	if typ == "counter" && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	f := s.families[name]
	if f != nil && f.typ != typ {
		name += "_" + typ
		f = s.families[name]
	}
	if f == nil {
		f = &promFamily{name: name, source: source, typ: typ, series: map[string]*promSeries{}}
		s.families[name] = f
	}
	l := renderLabels(labels)
	se := f.series[l]
	if se == nil {
		se = &promSeries{labels: l}
		f.series[l] = se
	}
	return se
}

func (s *promSink) SetGauge(key []string, val float32) { s.SetGaugeWithLabels(key, val, nil) }
func (s *promSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series(key, "gauge", labels).value = float64(val)
}
func (s *promSink) EmitKey(key []string, val float32)     { s.SetGauge(key, val) }
func (s *promSink) IncrCounter(key []string, val float32) { s.IncrCounterWithLabels(key, val, nil) }
func (s *promSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series(key, "counter", labels).value += float64(val)
}
func (s *promSink) AddSample(key []string, val float32) { s.AddSampleWithLabels(key, val, nil) }
func (s *promSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.series(key, "summary", labels)
	se.value += float64(val)
	se.count++
}

func promFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// write prints every family, sorted by name, each series sorted by its labels.
func (s *promSink) write(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.families))
	for n := range s.families {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		f := s.families[n]
		fmt.Fprintf(&b, "# HELP %s memberlist metric %s\n# TYPE %s %s\n", f.name, f.source, f.name, f.typ)
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			se := f.series[k]
			if f.typ == "summary" {
				fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %d\n", f.name, se.labels, promFloat(se.value), f.name, se.labels, se.count)
			} else {
				fmt.Fprintf(&b, "%s%s %s\n", f.name, se.labels, promFloat(se.value))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
