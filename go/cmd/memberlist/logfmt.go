package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// printer writes the agent's lines on stdout, one per event, as text (a UTC timestamp, the
// event padded to 6 columns, the text) or, with --log-format json, as one JSON object per line
// (time, level, msg, event and the event's fields). Safe for concurrent use.
type printer struct {
	mu   sync.Mutex
	out  io.Writer
	json slog.Handler // nil: text
}

func newPrinter(out io.Writer, format string) (*printer, error) {
	p := &printer{out: out}
	switch format {
	case "", "text":
	case "json":
		p.json = newJSONHandler(out)
	default:
		return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
	}
	return p, nil
}

// newJSONHandler writes slog records as JSON objects with the time in UTC.
func newJSONHandler(out io.Writer) slog.Handler {
	return slog.NewJSONHandler(out, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.TimeValue(a.Value.Time().UTC())
			}
			return a
		},
	})
}

// line prints one event now.
func (p *printer) line(event, text string, attrs ...slog.Attr) {
	p.at(time.Now(), event, text, attrs...)
}

// at prints one event stamped with the given time.
func (p *printer) at(t time.Time, event, text string, attrs ...slog.Attr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json != nil {
		r := slog.NewRecord(t, slog.LevelInfo, text, 0)
		r.AddAttrs(slog.String("event", event))
		r.AddAttrs(attrs...)
		_ = p.json.Handle(context.Background(), r)
		return
	}
	io.WriteString(p.out, t.UTC().Format("2006-01-02T15:04:05.000Z")+" "+fmt.Sprintf("%-6s %s", event, text)+"\n")
}

// jsonLogWriter turns memberlist's own log lines ("[LEVEL] memberlist: text", one per Write)
// into JSON objects on out (--verbose --log-format json).
type jsonLogWriter struct {
	mu sync.Mutex
	h  slog.Handler
}

func (w *jsonLogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		level, msg := slog.LevelInfo, strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(msg, "["); ok {
			if tag, text, ok := strings.Cut(rest, "] "); ok {
				msg = text
				switch tag {
				case "DEBUG", "TRACE":
					level = slog.LevelDebug
				case "WARN":
					level = slog.LevelWarn
				case "ERR", "ERROR":
					level = slog.LevelError
				}
			}
		}
		r := slog.NewRecord(time.Now(), level, msg, 0)
		r.AddAttrs(slog.String("source", "memberlist"))
		_ = w.h.Handle(context.Background(), r)
	}
	return len(b), nil
}
