package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run the built binary. ML_GO_MODFILE=go.real.mod builds it against
// hashicorp/memberlist instead of libmemberlist (the same source either way).

var binPath string

// realBinPath is the CLI built on hashicorp/memberlist (go.real.mod), for the mixed test.
var realBinPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "memberlist-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "memberlist")
	args := []string{"build", "-o", binPath}
	if mf := os.Getenv("ML_GO_MODFILE"); mf != "" { // relative to the module root, go/cmd
		if !filepath.IsAbs(mf) {
			mf = filepath.Join("..", mf)
		}
		args = append(args, "-modfile="+mf)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = "."
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	realBinPath = filepath.Join(dir, "memberlist-hashicorp")
	cmd = exec.Command("go", "build", "-o", realBinPath, "-modfile=../go.real.mod", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build -modfile=../go.real.mod: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running agent whose stdout lines are collected.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	grew  chan struct{}
	done  chan struct{}
	err   error
}

func startAgent(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startAgentBin(t, binPath, name, args...)
}

func startAgentBin(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	return startAgentEnv(t, bin, name, nil, args...)
}

// startAgentEnv starts an agent with extra environment variables (NAME=value).
func startAgentEnv(t *testing.T, bin, name string, env []string, args ...string) *proc {
	t.Helper()
	return startAgentFull(t, bin, name, env, nil, append([]string{"--http", "127.0.0.1:0"}, args...)...)
}

// startAgentFull starts an agent with the test defaults (name, local profile, any gossip port)
// and args; stderr nil logs the agent's stderr.
func startAgentFull(t *testing.T, bin, name string, env []string, stderr io.Writer, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"agent", "--name", name, "--profile", "local", "--bind", "127.0.0.1:0"}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if stderr == nil {
		cmd.Stderr = &prefixWriter{t: t, prefix: name + " stderr: "}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, grew: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.grew <- struct{}{}:
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, strings.Join(p.output(), "\n"))
		}
	})
	return p
}

type prefixWriter struct {
	t      *testing.T
	prefix string
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitLine waits until a line matches re and returns its submatches.
func (p *proc) waitLine(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		for _, l := range p.output() {
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		select {
		case <-p.grew:
		case <-p.done:
			for _, l := range p.output() {
				if m := rx.FindStringSubmatch(l); m != nil {
					return m
				}
			}
			p.t.Fatalf("%s exited (%v) without printing a line matching %q", p.name, p.err, re)
		case <-deadline:
			p.t.Fatalf("%s: no line matching %q within %v", p.name, re, timeout)
		}
	}
}

func (p *proc) signalAndWait(sig syscall.Signal, timeout time.Duration) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Fatalf("%s exited with %v after %v", p.name, p.err, sig)
		}
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v of %v", p.name, timeout, sig)
	}
}

var startRe = `agent +(\S+) gossip=(\S+) http=(\S+)`

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

func TestAgentsMembersAndLeave(t *testing.T) {
	a := startAgent(t, "a", "--meta", "role=seed")
	am := a.waitLine(startRe, 10*time.Second)
	aGossip, aHTTP := am[2], am[3]

	sock := filepath.Join(t.TempDir(), "b.sock")
	b := startAgent(t, "b", "--join", aGossip, "--http", "unix:"+sock)
	bm := b.waitLine(startRe, 10*time.Second)
	bGossip := bm[2]
	b.waitLine(`joined 1 node\(s\) via `+regexp.QuoteMeta(aGossip), 10*time.Second)

	// Each agent prints the other's join, timestamped, with its address.
	ts := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `
	a.waitLine(ts+`join +b `+regexp.QuoteMeta(bGossip)+`$`, 10*time.Second)
	b.waitLine(ts+`join +a `+regexp.QuoteMeta(aGossip)+` meta="role=seed"$`, 10*time.Second)

	// members over TCP and over the unix socket: the same two nodes.
	out := runCLI(t, "members", "--agent", aHTTP, "--wait-for", "2", "--timeout", "10s")
	for _, want := range []string{"NAME", "a *", "b ", aGossip, bGossip, "role=seed", "2 members, seen by a"} {
		if !strings.Contains(out, want) {
			t.Errorf("members via %s: no %q in\n%s", aHTTP, want, out)
		}
	}
	out = runCLI(t, "members", "--agent", "unix:"+sock, "--json")
	for _, want := range []string{`"self": "b"`, `"name": "a"`, `"name": "b"`, `"meta": "role=seed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("members --json via unix socket: no %q in\n%s", want, out)
		}
	}

	// SIGINT: b leaves gracefully and exits 0; a sees it go.
	b.signalAndWait(syscall.SIGINT, 15*time.Second)
	b.waitLine(`left +b$`, time.Second)
	a.waitLine(ts+`leave +b `, 10*time.Second)
	runCLI(t, "members", "--agent", aHTTP, "--wait-for", "1", "--timeout", "10s")
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("unix socket %s left behind", sock)
	}
	a.signalAndWait(syscall.SIGTERM, 15*time.Second)
	a.waitLine(`left +a$`, time.Second)
}

// TestSendAndStats: POST /v1/send/{node} delivers a user message (reliable and best effort) that
// the receiver counts in GET /v1/stats; an unknown member is a 404. Sending is a write: over TCP
// it needs the agent's token, like PUT /v1/meta.
func TestSendAndStats(t *testing.T) {
	a := startAgent(t, "a", "--http-token", "s3cret")
	am := a.waitLine(startRe, 10*time.Second)
	b := startAgent(t, "b", "--join", am[2])
	bm := b.waitLine(startRe, 10*time.Second)
	b.waitLine(`joined 1 node\(s\)`, 10*time.Second)
	a.waitLine(`join +b `, 10*time.Second)
	postAs := func(token, path string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+am[3]+path, strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	post := func(path string) int { return postAs("s3cret", path) }
	if c := postAs("", "/v1/send/b"); c != http.StatusUnauthorized {
		t.Fatalf("send without the token: status %d, want 401", c)
	}
	if c := post("/v1/send/b"); c != http.StatusNoContent {
		t.Fatalf("send reliable: status %d", c)
	}
	if c := post("/v1/send/b?mode=best-effort"); c != http.StatusNoContent {
		t.Fatalf("send best effort: status %d", c)
	}
	if c := post("/v1/send/nobody"); c != http.StatusNotFound {
		t.Fatalf("send to an unknown member: status %d, want 404", c)
	}
	waitCond(t, "b's stats to show 2 messages of 10 bytes", 10*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + bm[3] + "/v1/stats")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Msgs  uint64 `json:"messages_received"`
			Bytes uint64 `json:"message_bytes_received"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return st.Msgs == 2 && st.Bytes == 10, fmt.Sprintf("%+v", st)
	})
}

// TestMixedAgents: the CLI on this build's package and the same CLI on hashicorp/memberlist,
// in one encrypted, labelled cluster, joined each way; each one's members command sees both.
func TestMixedAgents(t *testing.T) {
	key := strings.TrimSpace(runCLI(t, "keygen"))
	flags := []string{"--key", key, "--label", "mixed"}
	a := startAgent(t, "a", flags...)
	am := a.waitLine(startRe, 10*time.Second)
	r := startAgentBin(t, realBinPath, "r", append(flags, "--join", am[2])...)
	rm := r.waitLine(startRe, 10*time.Second)
	c := startAgent(t, "c", append(flags, "--join", rm[2])...)
	cm := c.waitLine(startRe, 10*time.Second)
	for _, h := range []string{am[3], rm[3], cm[3]} {
		out := runCLI(t, "members", "--agent", h, "--wait-for", "3", "--timeout", "15s")
		for _, want := range []string{am[2], rm[2], cm[2]} {
			if !strings.Contains(out, want) {
				t.Errorf("members via %s lacks %s:\n%s", h, want, out)
			}
		}
	}
	r.signalAndWait(syscall.SIGINT, 15*time.Second)
	a.waitLine(`leave +r `, 10*time.Second)
	c.waitLine(`leave +r `, 10*time.Second)
	c.signalAndWait(syscall.SIGTERM, 15*time.Second)
	a.waitLine(`leave +c `, 10*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
}

func TestEncryptedAndLabelledAgents(t *testing.T) {
	key := strings.TrimSpace(runCLI(t, "keygen"))
	other := strings.TrimSpace(runCLI(t, "keygen", "--size", "16"))
	a := startAgent(t, "a", "--key", key, "--label", "blue")
	aGossip := a.waitLine(startRe+` profile=local encrypted=true label="blue"`, 10*time.Second)[2]

	// Same key and label: joins.
	b := startAgent(t, "b", "--key", key, "--label", "blue", "--join", aGossip)
	b.waitLine(`joined 1 node`, 10*time.Second)
	a.waitLine(`join +b `, 10*time.Second)

	// A wrong key, or a wrong label, cannot join.
	for _, args := range [][]string{{"--key", other, "--label", "blue"}, {"--key", key, "--label", "green"}, {"--label", "blue"}} {
		c := startAgent(t, "c", append(args, "--join", aGossip)...)
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("agent with %v: still running, expected its join to fail", args)
		}
		if c.err == nil {
			t.Errorf("agent with %v: joined a cluster it should not reach\n%s", args, strings.Join(c.output(), "\n"))
		}
	}
	b.signalAndWait(syscall.SIGINT, 15*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)
}

func TestHelpAndCompletion(t *testing.T) {
	out := runCLI(t, "--help")
	for _, want := range []string{"agent", "members", "keygen", "completion"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	out = runCLI(t, "agent", "--help")
	for _, want := range []string{"--bind", "--join", "--key", "--label", "--profile", "--http"} {
		if !strings.Contains(out, want) {
			t.Errorf("agent --help lacks %q", want)
		}
	}
	if out := runCLI(t, "completion", "bash"); !strings.Contains(out, "__start_memberlist") {
		t.Errorf("completion bash: no __start_memberlist function")
	}
	out = runCLI(t, "__complete", "agent", "--profile", "")
	for _, want := range []string{"lan", "wan", "local"} {
		if !strings.Contains(out, want) {
			t.Errorf("profile completion lacks %q:\n%s", want, out)
		}
	}
	// Bad input fails with a message, no stack trace.
	cmd := exec.Command(binPath, "agent", "--profile", "moon", "--http", "")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "--profile must be lan, wan or local") {
		t.Errorf("bad --profile: err=%v out=%s", err, b)
	}
}

// putMeta sends PUT /v1/meta over TCP (base "http://host:port") with an optional bearer token.
func putMeta(t *testing.T, c *http.Client, base, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/v1/meta", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("PUT /v1/meta: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}
}

// TestHTTPWritesNeedToken: over TCP, PUT /v1/meta needs the agent's bearer token (401
// without it or with a wrong one); with no token configured, TCP writes are refused outright
// (403) while the 0600 unix socket accepts them. Reads stay open; members --token works.
func TestHTTPWritesNeedToken(t *testing.T) {
	const token = "s3cret-token"
	c := &http.Client{Timeout: 10 * time.Second}

	// The token from the environment (what the docs recommend); --help must not show it.
	a := startAgentEnv(t, binPath, "a", []string{"MEMBERLIST_HTTP_TOKEN=" + token})
	help := exec.Command(binPath, "agent", "--help")
	help.Env = append(os.Environ(), "MEMBERLIST_HTTP_TOKEN="+token)
	if out, _ := help.CombinedOutput(); strings.Contains(string(out), token) {
		t.Errorf("agent --help prints the token from the environment")
	}
	aHTTP := "http://" + a.waitLine(startRe, 10*time.Second)[3]
	for _, tok := range []string{"", "wrong", token + "x"} {
		if code, body := putMeta(t, c, aHTTP, tok, "evil"); code != http.StatusUnauthorized {
			t.Errorf("PUT with token %q: status %d (%s), want 401", tok, code, body)
		}
	}
	// An oversized body is refused even with the token.
	if code, _ := putMeta(t, c, aHTTP, token, strings.Repeat("x", 600)); code != http.StatusBadRequest {
		t.Errorf("PUT of 600 bytes: status %d, want 400", code)
	}
	if code, body := putMeta(t, c, aHTTP, token, "role=new"); code != http.StatusNoContent {
		t.Fatalf("PUT with the token: status %d (%s), want 204", code, body)
	}
	a.waitLine(`meta +a set to "role=new"`, 10*time.Second)
	// Reads need no token; members sends one when given, and the meta is the new one.
	out := runCLI(t, "members", "--agent", strings.TrimPrefix(aHTTP, "http://"), "--token", token)
	if !strings.Contains(out, "role=new") {
		t.Errorf("members after the PUT lacks role=new:\n%s", out)
	}
	if strings.Contains(out, "evil") {
		t.Errorf("an unauthorized PUT changed the metadata:\n%s", out)
	}

	// No token: TCP writes are off (403), the unix socket (mode 0600) takes them.
	b := startAgentEnv(t, binPath, "b", []string{"MEMBERLIST_HTTP_TOKEN="})
	bHTTP := "http://" + b.waitLine(startRe, 10*time.Second)[3]
	if code, body := putMeta(t, c, bHTTP, "", "evil"); code != http.StatusForbidden {
		t.Errorf("PUT over TCP to an agent without a token: status %d (%s), want 403", code, body)
	}
	if code, _ := putMeta(t, c, bHTTP, "anything", "evil"); code != http.StatusForbidden {
		t.Errorf("PUT over TCP with a made-up token to an agent without one: status %d, want 403", code)
	}

	sock := filepath.Join(t.TempDir(), "s.sock")
	s := startAgentEnv(t, binPath, "s", []string{"MEMBERLIST_HTTP_TOKEN="}, "--http", "unix:"+sock)
	s.waitLine(startRe, 10*time.Second)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("unix socket %s: mode %v, want a socket with 0600", sock, fi.Mode())
	}
	if code, body := putMeta(t, unixClient(sock), "http://agent", "", "role=local"); code != http.StatusNoContent {
		t.Errorf("PUT over the unix socket: status %d (%s), want 204", code, body)
	}
	if out := runCLI(t, "members", "--agent", "unix:"+sock); !strings.Contains(out, "role=local") {
		t.Errorf("members over the unix socket lacks role=local:\n%s", out)
	}
	a.signalAndWait(syscall.SIGTERM, 15*time.Second)
	b.signalAndWait(syscall.SIGTERM, 15*time.Second)
	s.signalAndWait(syscall.SIGTERM, 15*time.Second)
}

// TestHTTPSlowClientIsCut: a client that trickles its request headers (slow loris) is
// disconnected once the header timeout passes, and the agent keeps serving others.
func TestHTTPSlowClientIsCut(t *testing.T) {
	const headerTimeout = time.Second
	a := startAgent(t, "a", "--http-header-timeout", headerTimeout.String())
	addr := a.waitLine(startRe, 10*time.Second)[3]

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan error, 1)
	go func() { // the server closing the connection ends this read
		_, err := io.Copy(io.Discard, conn)
		closed <- err
	}()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /v1/members HTTP/1.1\r\nHost: agent\r\n"); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(headerTimeout + 5*time.Second)
	for i := 0; ; i++ {
		select {
		case <-closed:
			el := time.Since(start)
			if el < headerTimeout/2 {
				t.Errorf("connection closed after %v, before the %v header timeout could apply", el, headerTimeout)
			}
			t.Logf("slow client cut after %v (header timeout %v)", el, headerTimeout)
			// The agent still answers.
			runCLI(t, "members", "--agent", addr)
			a.signalAndWait(syscall.SIGTERM, 15*time.Second)
			return
		case <-tick.C:
			// One more header byte, never the blank line that ends the headers.
			_, _ = fmt.Fprintf(conn, "X-%d: y\r\n", i)
		case <-deadline:
			t.Fatalf("a client trickling headers was still connected %v after it started (header timeout %v)", time.Since(start), headerTimeout)
		}
	}
}
