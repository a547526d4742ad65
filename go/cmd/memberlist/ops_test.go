package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests of what an operator sees (issue 16): error texts, the default HTTP address with two
// agents on one host, GET /health, member states, --log-format json.

// onRealMemberlist: the binary is built on hashicorp/memberlist, whose API has no member states.
func onRealMemberlist() bool { return os.Getenv("ML_GO_MODFILE") != "" }

// runFail runs the CLI, which must fail, and returns its combined output.
func runFail(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, err := execCLI(env, args...)
	if err == nil {
		t.Fatalf("memberlist %s succeeded; want an error:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

// TestErrorMessages: each mistake gets one "Error: ..." line (a flag typo also the usage hint)
// saying what is wrong with what was typed, with no C function names, no "create: could not
// create" stutter, no DNS failure for an invalid IP and no blank lines from a multierror.
func TestErrorMessages(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	taken := udp.LocalAddr().String()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	takenTCP := tcp.Addr().String()
	// A TCP port nothing listens on: bound, then closed.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := free.Addr().String()
	free.Close()

	agent := []string{"agent", "--name", "t", "--profile", "local", "--http", ""}
	cases := []struct {
		name  string
		args  []string
		want  []string // substrings of the one error line, in order
		lines int      // lines of output (1, or 2 with the usage hint)
	}{
		{"bind not an IP", append(agent, "--bind", "300.1.1.1:7946"), []string{`Error: --bind "300.1.1.1:7946": invalid address`, "not an IP address"}, 1},
		{"bind host name", append(agent, "--bind", "localhost:7946"), []string{`Error: --bind "localhost:7946": invalid address`, `"localhost" is not an IP address`}, 1},
		{"bind no port", append(agent, "--bind", "127.0.0.1"), []string{`Error: --bind "127.0.0.1": invalid address`, "want host:port"}, 1},
		{"bind bad port", append(agent, "--bind", "127.0.0.1:70000"), []string{`Error: --bind "127.0.0.1:70000": invalid port "70000"`}, 1},
		{"advertise host name", append(agent, "--bind", "127.0.0.1:0", "--advertise", "example.com:1"), []string{`Error: --advertise "example.com:1": invalid address`}, 1},
		{"join invalid IP", append(agent, "--bind", "127.0.0.1:0", "--join", "300.1.1.1:7946"), []string{`Error: --join "300.1.1.1:7946": invalid address`, `"300.1.1.1" is not a valid IP address`}, 1},
		{"join bad port", append(agent, "--bind", "127.0.0.1:0", "--join", "127.0.0.1:0"), []string{`Error: --join "127.0.0.1:0": invalid port`}, 1},
		{"join refused", append(agent, "--bind", "127.0.0.1:0", "--join", refused), []string{"Error: cannot join " + refused + ": connection refused", "--join-timeout"}, 1},
		{"gossip port taken", append(agent, "--bind", taken), []string{"Error: --bind " + taken + ": ", "address already in use", "another agent", "port 0"}, 1},
		{"http port taken", []string{"agent", "--name", "t", "--bind", "127.0.0.1:0", "--http", takenTCP}, []string{"Error: --http " + takenTCP + ": address already in use", "another agent", "127.0.0.1:0"}, 1},
		{"flag typo", append(agent, "--nmae", "x"), []string{"Error: unknown flag: --nmae (did you mean --name?)", "Run 'memberlist agent --help' for usage."}, 2},
		{"members flag typo", []string{"members", "--jsno"}, []string{"Error: unknown flag: --jsno (did you mean --json?)", "Run 'memberlist members --help' for usage."}, 2},
		{"no agent", []string{"members", "--agent", refused}, []string{"Error: no agent answers at " + refused, "--agent"}, 1},
		{"bad log format", append(agent, "--bind", "127.0.0.1:0", "--log-format", "xml"), []string{`Error: --log-format must be text or json, not "xml"`}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runFail(t, []string{"MEMBERLIST_AGENT="}, c.args...)
			// An agent that started before failing to join printed its start lines on stdout.
			out = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+Z .*\n`).ReplaceAllString(out, "")
			if !strings.HasSuffix(out, "\n") || strings.Contains(out, "\n\n") || strings.Count(out, "\n") != c.lines {
				t.Errorf("want %d line(s), no blank ones; got %q", c.lines, out)
			}
			rest := out
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("no %q (in order) in %q", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, bad := range []string{"ml_", "create:", "could not", "failed to", "lookup", "no such host", "occurred", "\t"} {
				if strings.Contains(out, bad) {
					t.Errorf("%q in %q", bad, out)
				}
			}
		})
	}
}

// TestSecondAgentOnOneHost: two agents started without --http both come up; at most one gets
// the default address, the other says which port it serves on instead, and "members" finds
// each (the default address with no --agent).
func TestSecondAgentOnOneHost(t *testing.T) {
	a := startAgentFull(t, binPath, "a", nil, nil)
	am := a.waitLine(startRe, 10*time.Second)
	b := startAgentFull(t, binPath, "b", nil, nil, "--join", am[2])
	bm := b.waitLine(startRe, 10*time.Second)
	b.waitLine(`joined 1 node`, 10*time.Second)
	if am[3] == defaultHTTP && bm[3] == defaultHTTP {
		t.Fatalf("both agents serve on %s", defaultHTTP)
	}
	for _, p := range []struct {
		p    *proc
		http string
	}{{a, am[3]}, {b, bm[3]}} {
		if p.http == defaultHTTP {
			// members without --agent finds it.
			out := runCLIEnv(t, []string{"MEMBERLIST_AGENT="}, "members", "--wait-for", "2", "--timeout", "10s")
			if !strings.Contains(out, "2 members, seen by "+p.p.name) {
				t.Errorf("members (default agent): %s", out)
			}
			continue
		}
		p.p.waitLine(`http +`+regexp.QuoteMeta(defaultHTTP)+` is taken \(another agent\?\): serving on `+regexp.QuoteMeta(p.http)+`; memberlist members --agent `+regexp.QuoteMeta(p.http)+`$`, time.Second)
		out := runCLI(t, "members", "--agent", p.http, "--wait-for", "2", "--timeout", "10s")
		if !strings.Contains(out, "2 members, seen by "+p.p.name) {
			t.Errorf("members --agent %s: %s", p.http, out)
		}
	}
	b.signalAndWait(syscall.SIGINT, 15*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
}

// execCLI runs the CLI with env added to ours, with a 30 s limit, and returns its combined output.
func execCLI(env []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func runCLIEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, err := execCLI(env, args...)
	if err != nil {
		t.Fatalf("memberlist %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type healthAnswer struct {
	code   int
	Status string `json:"status"`
	Score  *int   `json:"health_score"`
}

func getHealth(t *testing.T, base string) healthAnswer {
	t.Helper()
	resp, err := http.Get("http://" + base + "/health")
	if err != nil {
		t.Fatalf("GET /health: %v", err)
	}
	defer resp.Body.Close()
	var h healthAnswer
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /health: %v", err)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("GET /health: %v: %q", err, body)
	}
	if !regexp.MustCompile(`^\{"status":"[a-z]+","health_score":\d+,`).Match(body) {
		t.Errorf("GET /health: %q does not start with status and health_score", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /health: Content-Type %q", ct)
	}
	if h.Score == nil {
		t.Fatalf("GET /health: no health_score")
	}
	h.code = resp.StatusCode
	return h
}

func getView(t *testing.T, base string) View {
	t.Helper()
	v, err := fetchView(context.Background(), client(base, ""))
	if err != nil {
		t.Fatalf("GET /v1/members: %v", err)
	}
	return v
}

func stateIn(v View, name string) string {
	for _, m := range append(append([]Member(nil), v.Members...), v.Departed...) {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}

// waitCond polls cond until it holds or the deadline passes.
func waitCond(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHealthAndMemberStates: /health is 200 {"status":"ok","health_score":0} in a healthy
// cluster. A member that leaves shows "left"; one stopped (SIGSTOP) makes this agent's probes
// fail, so its health score reaches the threshold (1 here) and /health turns 503, and the member
// becomes "dead" (on libmemberlist; hashicorp/memberlist's API has no states: every member is
// "alive" and departed ones drop out).
func TestHealthAndMemberStates(t *testing.T) {
	a := startAgent(t, "a", "--health-threshold", "1")
	am := a.waitLine(startRe, 10*time.Second)
	aHTTP := am[3]
	b := startAgent(t, "b", "--join", am[2])
	b.waitLine(`joined 1 node`, 10*time.Second)
	c := startAgent(t, "c", "--join", am[2])
	c.waitLine(`joined 1 node`, 10*time.Second)
	out := runCLI(t, "members", "--agent", aHTTP, "--wait-for", "3", "--timeout", "10s")
	if !regexp.MustCompile(`(?m)^NAME +ADDRESS +STATE +PROTOCOL +META$`).MatchString(out) ||
		len(regexp.MustCompile(`(?m)^[abc] .* alive +\d`).FindAllString(out, -1)) != 3 {
		t.Errorf("members: want 3 alive rows under a STATE column:\n%s", out)
	}
	if h := getHealth(t, aHTTP); h.code != http.StatusOK || h.Status != "ok" || *h.Score != 0 {
		t.Errorf("healthy: GET /health = %d %+v, want 200 ok 0", h.code, h)
	}
	for _, m := range getView(t, aHTTP).Members {
		if m.State != "alive" {
			t.Errorf("%s: state %q, want alive", m.Name, m.State)
		}
	}

	t0 := time.Now()
	// c leaves gracefully.
	c.signalAndWait(syscall.SIGINT, 15*time.Second)
	waitCond(t, "a to see c go", 15*time.Second, func() (bool, string) {
		v := getView(t, aHTTP)
		if onRealMemberlist() {
			return len(v.Members) == 2 && stateIn(v, "c") == "", fmt.Sprintf("%+v", v)
		}
		return len(v.Members) == 2 && stateIn(v, "c") == "left", fmt.Sprintf("%+v", v)
	})

	t.Logf("%v: c left", time.Since(t0))
	// b stops answering.
	if err := syscall.Kill(b.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(b.cmd.Process.Pid, syscall.SIGCONT)
		}
	}
	defer resume()
	waitCond(t, "GET /health to turn 503", 30*time.Second, func() (bool, string) {
		h := getHealth(t, aHTTP)
		return h.code == http.StatusServiceUnavailable && h.Status == "degraded" && *h.Score >= 1, fmt.Sprintf("%d %+v score %d", h.code, h, *h.Score)
	})
	t.Logf("%v: /health 503", time.Since(t0))
	waitCond(t, "a to see b dead", 30*time.Second, func() (bool, string) {
		v := getView(t, aHTTP)
		if onRealMemberlist() {
			return len(v.Members) == 1, fmt.Sprintf("%+v", v)
		}
		return len(v.Members) == 1 && stateIn(v, "b") == "dead", fmt.Sprintf("%+v", v)
	})
	if !onRealMemberlist() {
		out = runCLI(t, "members", "--agent", aHTTP, "--json")
		if !strings.Contains(out, `"departed": [`) || !strings.Contains(out, `"state": "dead"`) || !strings.Contains(out, `"state": "left"`) {
			t.Errorf("members --json: want b dead and c left under departed:\n%s", out)
		}
		out = runCLI(t, "members", "--agent", aHTTP)
		if !regexp.MustCompile(`(?m)^b .* dead +\d`).MatchString(out) || !regexp.MustCompile(`(?m)^c .* left +\d`).MatchString(out) ||
			!strings.Contains(out, "1 members, seen by a (health score ") || !strings.Contains(out, "; 2 left or dead") {
			t.Errorf("members: want rows b dead, c left and the count:\n%s", out)
		}
	}
	t.Logf("%v: b dead", time.Since(t0))
	resume()
	b.signalAndWait(syscall.SIGINT, 15*time.Second)
	t.Logf("%v: b stopped", time.Since(t0))
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
	t.Logf("%v: a stopped", time.Since(t0))
}

// syncBuffer is a bytes.Buffer safe for the agent's stderr copier and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogFormatJSON: with --log-format json every stdout line is one JSON object (time in UTC,
// level, msg, event and the event's fields), and with --verbose so is every line of
// memberlist's log on stderr.
func TestLogFormatJSON(t *testing.T) {
	var stderr syncBuffer
	a := startAgentFull(t, binPath, "a", nil, &stderr, "--http", "127.0.0.1:0", "--log-format", "json", "--verbose", "--meta", "role=db")
	am := a.waitLine(`^\{.*"event":"agent".*$`, 10*time.Second)
	var start map[string]any
	if err := json.Unmarshal([]byte(am[0]), &start); err != nil {
		t.Fatal(err)
	}
	gossip, _ := start["gossip"].(string)
	b := startAgent(t, "b", "--join", gossip)
	b.waitLine(`joined 1 node`, 10*time.Second)
	a.waitLine(`"event":"join".*"node":"b"`, 10*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
	b.signalAndWait(syscall.SIGINT, 15*time.Second)

	events := map[string]map[string]any{}
	for _, l := range a.output() {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("stdout line is not JSON: %q: %v", l, err)
		}
		ts, _ := o["time"].(string)
		if tm, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") || tm.IsZero() {
			t.Errorf("line %q: time %q is not RFC 3339 UTC", l, ts)
		}
		for _, k := range []string{"level", "msg", "event"} {
			if _, ok := o[k].(string); !ok {
				t.Errorf("line %q: no %q string", l, k)
			}
		}
		events[o["event"].(string)] = o
	}
	if e := events["agent"]; e == nil || e["node"] != "a" || e["http"] == nil || e["encrypted"] != false {
		t.Errorf("start line: %v", e)
	}
	if e := events["join"]; e == nil || e["addr"] == nil {
		t.Errorf("join line: %v", e)
	}
	if e := events["left"]; e == nil || e["node"] != "a" {
		t.Errorf("left line: %v", e)
	}
	if events["signal"] == nil {
		t.Errorf("no signal line: %v", events)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("--verbose: want memberlist's log on stderr, got %q", stderr.String())
	}
	for _, l := range lines {
		var o struct {
			Time, Level, Msg, Source string
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil || o.Source != "memberlist" || o.Msg == "" || o.Time == "" ||
			strings.HasPrefix(o.Msg, "[") || !strings.Contains("DEBUG INFO WARN ERROR", o.Level) {
			t.Errorf("stderr line is not a memberlist JSON log record: %q (%v)", l, err)
		}
	}
}
