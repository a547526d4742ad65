package main

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/spf13/cobra"
)

type agentOpts struct {
	name         string
	bind         string
	advertise    string
	join         []string
	joinTimeout  time.Duration
	keys         []string
	label        string
	profile      string
	httpAddr     string
	httpToken    string
	httpTimeout  time.Duration
	meta         string
	compression  bool
	retransmit   int
	verbose      bool
	leaveTimeout time.Duration
	logFormat    string
	healthMax    int
	settings     []string // --set key=value, docs/config.md keys
	httpAuto     bool     // --http not given: fall back to a free port when the default is taken
}

// defaultHTTP is where the agent serves its API unless told otherwise, and where "members" looks.
const defaultHTTP = "127.0.0.1:7980"

func newAgentCmd() *cobra.Command {
	o := agentOpts{}
	configPath := ""
	host, _ := os.Hostname()
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a member: join a cluster, print membership changes, serve the member list",
		Long: `Run a member. It joins the cluster through --join (any member's gossip address),
prints one line per membership change as it happens:

  2026-11-24T23:50:01.123Z join   b 127.0.0.1:7947
  2026-11-24T23:50:09.481Z leave  c 127.0.0.1:7948

("leave" is memberlist's NotifyLeave: the node left gracefully or was declared dead),
and serves its view on --http for "memberlist members", with GET /health (200 or 503, for
load balancers) and GET /metrics (Prometheus). SIGINT or SIGTERM leaves the cluster
gracefully (bounded by --leave-timeout) and exits 0; a second signal exits at once.`,
		Example: `  memberlist agent --name a --bind 127.0.0.1:7946 --http 127.0.0.1:7980
  memberlist agent --name b --bind 127.0.0.1:7947 --join 127.0.0.1:7946 --http unix:/tmp/b.sock
  memberlist agent --name c --bind 127.0.0.1:0 --join 127.0.0.1:7946 --key "$(memberlist keygen)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath != "" {
				if err := applyConfigFile(cmd, configPath); err != nil {
					return err
				}
			}
			if o.httpToken == "" {
				o.httpToken = os.Getenv("MEMBERLIST_HTTP_TOKEN")
			}
			o.httpAuto = !cmd.Flags().Changed("http") // neither on the command line nor in --config
			return runAgent(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", `JSON file of flag values, keyed by flag name ({"name": "a", "join": ["10.0.0.1:7946"], "join-timeout": "30s"}); flags on the command line win`)
	f.StringVar(&o.name, "name", host, "node name, unique in the cluster")
	f.StringVar(&o.bind, "bind", "0.0.0.0:7946", "gossip address host:port (UDP and TCP); port 0 picks a free port")
	f.StringVar(&o.advertise, "advertise", "", "address host:port other members use to reach this node (default: the bind address)")
	f.StringSliceVar(&o.join, "join", nil, "address host:port of an existing member (repeatable, or comma-separated)")
	f.DurationVar(&o.joinTimeout, "join-timeout", 0, "keep retrying --join for this long (0: one attempt)")
	f.StringArrayVar(&o.keys, "key", nil, "base64 AES key (16, 24 or 32 bytes) to encrypt gossip; repeat for a keyring, the first is primary")
	f.StringVar(&o.label, "label", "", "cluster label: traffic carrying another label is dropped")
	f.StringVar(&o.profile, "profile", "lan", "timing profile: lan, wan or local")
	f.StringVar(&o.httpAddr, "http", defaultHTTP, `serve the HTTP API on this address: host:port (reads open, writes need --http-token), or unix:/path for a unix socket (mode 0600); "" disables. Not given and `+defaultHTTP+` taken (another agent): a free port, printed at start`)
	// No default value from the environment here: --help would print the token.
	f.StringVar(&o.httpToken, "http-token", "", "bearer token that PUT /v1/meta must send (Authorization: Bearer ...); required for writes over TCP; default $MEMBERLIST_HTTP_TOKEN (prefer the variable: flags show in ps)")
	f.DurationVar(&o.httpTimeout, "http-header-timeout", defaultHeaderTimeout, "how long an HTTP client may take to send its request headers")
	_ = f.MarkHidden("http-header-timeout") // for tests; operators keep the default
	f.StringVar(&o.meta, "meta", "", "node metadata (at most 512 bytes), shown by 'members'")
	f.BoolVar(&o.compression, "compression", true, "compress gossip (LZW)")
	f.IntVar(&o.retransmit, "retransmit-mult", 0, "how many times each broadcast is retransmitted, times log(N+1) (0: the profile's)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print memberlist's own log on stderr")
	f.DurationVar(&o.leaveTimeout, "leave-timeout", 5*time.Second, "how long to wait for the leave to propagate on SIGINT/SIGTERM")
	f.StringVar(&o.logFormat, "log-format", "text", "text, or json: one JSON object per line (stdout, and memberlist's log on stderr with --verbose)")
	f.StringArrayVar(&o.settings, "set", nil, "any memberlist setting of docs/config.md as key=value, e.g. --set probe_interval=2s (repeatable; in --config: an object \"memberlist\": {\"probe_interval\": \"2s\"})")
	f.IntVar(&o.healthMax, "health-threshold", defaultHealthThreshold, "GET /health answers 503 once memberlist's health score reaches this (0 is healthy, 7 the worst)")
	_ = cmd.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"lan\tLAN timings (DefaultLANConfig)", "wan\tWAN timings (DefaultWANConfig)", "local\tloopback timings (DefaultLocalConfig)"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// buildConfig turns the flags into a memberlist.Config (no delegates yet).
func buildConfig(o agentOpts) (*memberlist.Config, error) {
	var c *memberlist.Config
	switch o.profile {
	case "lan":
		c = memberlist.DefaultLANConfig()
	case "wan":
		c = memberlist.DefaultWANConfig()
	case "local":
		c = memberlist.DefaultLocalConfig()
	default:
		return nil, fmt.Errorf("--profile must be lan, wan or local, not %q", o.profile)
	}
	if o.name == "" {
		return nil, errors.New("--name is required")
	}
	c.Name = o.name
	host, port, err := splitHostPort(o.bind, "--bind")
	if err != nil {
		return nil, err
	}
	if err := needIP(host, o.bind, "--bind"); err != nil {
		return nil, err
	}
	c.BindAddr, c.BindPort, c.AdvertisePort = host, port, port
	if o.advertise != "" {
		h, p, err := splitHostPort(o.advertise, "--advertise")
		if err != nil {
			return nil, err
		}
		if err := needIP(h, o.advertise, "--advertise"); err != nil {
			return nil, err
		}
		c.AdvertiseAddr, c.AdvertisePort = h, p
	}
	if len(o.keys) > 0 {
		keys := make([][]byte, 0, len(o.keys))
		for _, s := range o.keys {
			k, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("--key: not base64: %v", err)
			}
			keys = append(keys, k)
		}
		kr, err := memberlist.NewKeyring(keys, keys[0])
		if err != nil {
			return nil, fmt.Errorf("--key: %v", err)
		}
		c.Keyring = kr
	}
	c.Label = o.label
	c.EnableCompression = o.compression
	if o.retransmit < 0 {
		return nil, fmt.Errorf("--retransmit-mult must be >= 0, not %d", o.retransmit)
	}
	if o.retransmit > 0 {
		c.RetransmitMult = o.retransmit
	}
	if o.healthMax < 1 {
		return nil, fmt.Errorf("--health-threshold must be at least 1, not %d", o.healthMax)
	}
	for _, j := range o.join {
		if err := checkJoinAddr(j); err != nil {
			return nil, err
		}
	}
	if len(o.meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("--meta is %d bytes, at most %d allowed", len(o.meta), memberlist.MetaMaxSize)
	}
	if err := applySettings(c, o.settings); err != nil {
		return nil, err
	}
	if o.verbose && o.logFormat == "json" {
		c.Logger = log.New(&jsonLogWriter{h: newJSONHandler(os.Stderr)}, "", 0)
	} else if o.verbose {
		c.LogOutput = os.Stderr
	} else {
		c.LogOutput = io.Discard
	}
	return c, nil
}

func splitHostPort(s, flag string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return "", 0, fmt.Errorf("%s %q: invalid address: %s (want host:port)", flag, s, ae.Err)
		}
		return "", 0, fmt.Errorf("%s %q: invalid address (want host:port)", flag, s)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%s %q: invalid port %q (want 0 to 65535)", flag, s, p)
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return h, port, nil
}

// events implements memberlist.EventDelegate without ever blocking the caller (memberlist
// may call it from its own threads): callbacks copy the node into an unbounded queue that
// one goroutine prints in order.
type events struct {
	mu    sync.Mutex
	queue []event
	wake  chan struct{}
}

type event struct {
	at   time.Time
	kind string
	name string
	addr string
	meta string
}

func newEvents() *events { return &events{wake: make(chan struct{}, 1)} }

func (e *events) push(kind string, n *memberlist.Node) {
	e.mu.Lock()
	e.queue = append(e.queue, event{at: time.Now(), kind: kind, name: n.Name, addr: n.Address(), meta: string(n.Meta)})
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *events) NotifyJoin(n *memberlist.Node)   { e.push("join", n) }
func (e *events) NotifyLeave(n *memberlist.Node)  { e.push("leave", n) }
func (e *events) NotifyUpdate(n *memberlist.Node) { e.push("update", n) }

// run prints events until ctx is done, then prints what is still queued.
func (e *events) run(ctx context.Context, p *printer) {
	flush := func() {
		e.mu.Lock()
		q := e.queue
		e.queue = nil
		e.mu.Unlock()
		for _, ev := range q {
			// The name and address came from the network; meta is already quoted by %q.
			attrs := []slog.Attr{slog.String("node", ev.name), slog.String("addr", ev.addr)}
			if ev.meta != "" {
				attrs = append(attrs, slog.String("meta", ev.meta))
				p.at(ev.at, ev.kind, fmt.Sprintf("%s %s meta=%q", printable(ev.name), printable(ev.addr), ev.meta), attrs...)
			} else {
				p.at(ev.at, ev.kind, fmt.Sprintf("%s %s", printable(ev.name), printable(ev.addr)), attrs...)
			}
		}
	}
	for {
		select {
		case <-e.wake:
			flush()
		case <-ctx.Done():
			flush()
			return
		}
	}
}

// delegate serves the node metadata (changeable over HTTP) and counts user messages.
type delegate struct {
	mu       sync.Mutex
	meta     []byte
	msgs     atomic.Uint64
	msgBytes atomic.Uint64
}

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.meta) > limit {
		return d.meta[:limit]
	}
	return append([]byte(nil), d.meta...)
}
func (d *delegate) NotifyMsg(b []byte) {
	d.msgs.Add(1)
	d.msgBytes.Add(uint64(len(b)))
}
func (d *delegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (d *delegate) LocalState(bool) []byte              { return nil }
func (d *delegate) MergeRemoteState(buf []byte, _ bool) {}

func runAgent(ctx context.Context, o agentOpts, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	conf, err := buildConfig(o)
	if err != nil {
		return err
	}
	p, err := newPrinter(stdout, o.logFormat)
	if err != nil {
		return err
	}
	ev := newEvents()
	del := &delegate{meta: []byte(o.meta)}
	conf.Events = ev
	conf.Delegate = del

	// Listen for HTTP before joining so a bad --http fails fast.
	// Not given, the default address may be another agent's on this host: then any free port,
	// said on the line after the start line.
	var ln net.Listener
	httpNote := ""
	if o.httpAddr != "" {
		ln, err = listen(o.httpAddr)
		if err != nil && o.httpAuto && errors.Is(err, syscall.EADDRINUSE) {
			if ln, err = listen("127.0.0.1:0"); err == nil {
				httpNote = fmt.Sprintf("%s is taken (another agent?): serving on %s; memberlist members --agent %s", o.httpAddr, describe(ln), describe(ln))
			}
		}
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("--http %s: address already in use; is another agent running on this host? give this one another --http address (127.0.0.1:0 picks a free port) or --http \"\" to serve none", o.httpAddr)
			}
			var oe *net.OpError
			if errors.As(err, &oe) && oe.Err != nil {
				err = oe.Err
			}
			return fmt.Errorf("--http %s: %v", o.httpAddr, err)
		}
		defer ln.Close()
	}

	// memberlist's metrics, for GET /metrics.
	sink := newPromSink()
	if err := installMetrics(sink); err != nil {
		return fmt.Errorf("metrics: %v", err)
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	m, err := memberlist.Create(conf)
	if err != nil {
		return createErrorText(o.bind, err)
	}
	evCtx, stopEvents := context.WithCancel(context.Background())
	evDone := make(chan struct{})
	go func() { ev.run(evCtx, p); close(evDone) }()
	defer func() { stopEvents(); <-evDone }()

	self := m.LocalNode()
	httpDesc := "off"
	if ln != nil {
		httpDesc = describe(ln)
	}
	p.line("agent", fmt.Sprintf("%s gossip=%s http=%s profile=%s encrypted=%t label=%q", self.Name, self.Address(), httpDesc, o.profile, conf.EncryptionEnabled(), o.label),
		slog.String("node", self.Name), slog.String("gossip", self.Address()), slog.String("http", httpDesc),
		slog.String("profile", o.profile), slog.Bool("encrypted", conf.EncryptionEnabled()), slog.String("label", o.label))
	if httpNote != "" {
		p.line("http", httpNote, slog.String("http", describe(ln)))
	}

	// running is what GET /health reports besides the health score: false once leaving.
	var running atomic.Bool
	running.Store(true)
	var srv *http.Server
	if ln != nil {
		h := handler(m, del, p, apiAuth{token: o.httpToken, local: ln.Addr().Network() == "unix"}, health{running: &running, threshold: o.healthMax}, sink)
		srv = newHTTPServer(h, o.httpTimeout)
		go func() { _ = srv.Serve(ln) }()
	}

	if len(o.join) > 0 {
		if err := join(m, o.join, o.joinTimeout, sigs, p); err != nil {
			if srv != nil {
				srv.Close()
			}
			_ = m.Shutdown()
			return err
		}
	}

	var sig os.Signal
	select {
	case sig = <-sigs:
	case <-ctx.Done():
	}
	if sig != nil {
		p.line("signal", fmt.Sprintf("%v: leaving (timeout %v)", sig, o.leaveTimeout), slog.String("signal", sig.String()))
	} else {
		p.line("stop", fmt.Sprintf("leaving (timeout %v)", o.leaveTimeout))
	}
	running.Store(false)
	go func() { // a second signal: give up on a clean leave
		if s, ok := <-sigs; ok {
			fmt.Fprintf(stderr, "signal %v again: exiting now\n", s)
			os.Exit(130)
		}
	}()
	leaveErr := m.Leave(o.leaveTimeout)
	if srv != nil {
		srv.Close()
	}
	if err := m.Shutdown(); err != nil {
		return fmt.Errorf("shutdown: %v", err)
	}
	stopEvents() // print what the leave produced before the final line
	<-evDone
	if leaveErr != nil {
		p.line("left", fmt.Sprintf("%s (leave: %v)", self.Name, leaveErr), slog.String("node", self.Name), slog.String("error", leaveErr.Error()))
	} else {
		p.line("left", self.Name, slog.String("node", self.Name))
	}
	return nil
}

func join(m *memberlist.Memberlist, addrs []string, timeout time.Duration, sigs chan os.Signal, p *printer) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := m.Join(addrs)
		if err == nil || n > 0 {
			p.line("joined", fmt.Sprintf("%d node(s) via %s", n, strings.Join(addrs, ",")), slog.Int("nodes", n), slog.String("via", strings.Join(addrs, ",")))
			return nil
		}
		if !time.Now().Before(deadline) {
			hint := ""
			if timeout == 0 && strings.Contains(err.Error(), "connection refused") {
				hint = " (no agent there yet? --join-timeout 30s keeps retrying)"
			}
			text := joinErrorText(err)
			if len(addrs) == 1 {
				text = strings.TrimPrefix(text, addrs[0]+": ")
			}
			return fmt.Errorf("cannot join %s: %s%s", strings.Join(addrs, ","), text, hint)
		}
		p.line("join", "failed, retrying: "+joinErrorText(err), slog.String("error", joinErrorText(err)))
		select {
		case s := <-sigs:
			sigs <- s // let the main loop see it
			return fmt.Errorf("join interrupted by %v", s)
		case <-time.After(time.Second):
		}
	}
}

func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(path) // a stale socket from a previous run
		}
		// Only this user may connect: the socket's mode is what guards PUT /v1/meta on it.
		// The umask makes bind(2) create it 0600, so there is no window in which it is open;
		// the chmod is for file systems that ignore the umask on sockets.
		old := syscall.Umask(0o177)
		ln, err := net.Listen("unix", path)
		syscall.Umask(old)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, err
		}
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

func describe(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}

// The HTTP server's bounds: a client that sends its headers slowly, or its body, or reads the
// answer slowly, is cut off, and idle keep-alive connections are closed, so a few stuck clients
// cannot hold the agent's connections and goroutines forever. The write timeout covers
// PUT /v1/meta, whose UpdateNode waits up to metaUpdateTimeout.
const (
	defaultHeaderTimeout = 5 * time.Second
	httpReadTimeout      = 10 * time.Second
	metaUpdateTimeout    = 5 * time.Second
	httpWriteTimeout     = metaUpdateTimeout + 10*time.Second
	httpIdleTimeout      = 60 * time.Second
	httpMaxHeaderBytes   = 16 << 10
)

func newHTTPServer(h http.Handler, headerTimeout time.Duration) *http.Server {
	if headerTimeout <= 0 {
		headerTimeout = defaultHeaderTimeout
	}
	read := httpReadTimeout
	if read < headerTimeout {
		read = headerTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       read,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0), // a client's bad request is not the operator's problem
	}
}

// apiAuth decides who may change the agent (PUT /v1/meta). Reads stay open.
//   - With a token, every write must carry "Authorization: Bearer <token>" (TCP or unix socket).
//   - Without one, writes are accepted on a unix socket only: its mode (0600) admits this user
//     alone. Over TCP anyone who can reach the port could rewrite the metadata the whole
//     cluster sees, so writes are refused until the agent has --http-token.
type apiAuth struct {
	token string
	local bool // unix socket
}

// allowWrite answers the request itself (401 or 403) and returns false when it may not write.
func (a apiAuth) allowWrite(w http.ResponseWriter, r *http.Request) bool {
	if a.token == "" {
		if a.local {
			return true
		}
		http.Error(w, "writes over TCP need a token: start the agent with --http-token or $MEMBERLIST_HTTP_TOKEN (or use a unix socket)", http.StatusForbidden)
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="memberlist agent"`)
		http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
		return false
	}
	return true
}

// maxSendBody bounds POST /v1/send (a reliable message travels over TCP; 64 KiB is plenty for tests).
const maxSendBody = 64 << 10

// defaultHealthThreshold: memberlist's health score (Lifeguard's awareness) runs from 0 to 7
// (AwarenessMaxMultiplier-1); each missed probe adds 1, each answered one takes 1 off. 4 and up
// means this node has failed most of its recent probes: its own network or CPU is the likely
// problem, not its peers.
const defaultHealthThreshold = 4

// health is what GET /health needs.
type health struct {
	running   *atomic.Bool
	threshold int
}

func handler(m *memberlist.Memberlist, del *delegate, p *printer, auth apiAuth, hl health, sink *promSink) http.Handler {
	mux := http.NewServeMux()
	// Every metric memberlist emits (go-metrics), in Prometheus' text format.
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = sink.write(w)
	})
	// 200 while the node runs and its health score is below the threshold, else 503; JSON either way.
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		score := m.GetHealthScore()
		status, code := "ok", http.StatusOK
		switch {
		case !hl.running.Load():
			status, code = "leaving", http.StatusServiceUnavailable
		case score >= hl.threshold:
			status, code = "degraded", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(struct {
			Status      string `json:"status"`
			HealthScore int    `json:"health_score"`
			Threshold   int    `json:"threshold"`
		}{status, score, hl.threshold})
	})
	mux.HandleFunc("GET /v1/members", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(viewOf(m))
	})
	// A user message to one member: the body, reliably (TCP) or with ?mode=best-effort (UDP).
	mux.HandleFunc("POST /v1/send/{node}", func(w http.ResponseWriter, r *http.Request) {
		if !auth.allowWrite(w, r) {
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxSendBody+1))
		if err != nil || len(b) > maxSendBody {
			http.Error(w, fmt.Sprintf("a message must be at most %d bytes", maxSendBody), http.StatusBadRequest)
			return
		}
		var to *memberlist.Node
		for _, n := range m.Members() {
			if n.Name == r.PathValue("node") {
				to = n
				break
			}
		}
		if to == nil {
			http.Error(w, "no such member", http.StatusNotFound)
			return
		}
		switch r.URL.Query().Get("mode") {
		case "", "reliable":
			err = m.SendReliable(to, b)
		case "best-effort":
			err = m.SendBestEffort(to, b)
		default:
			http.Error(w, "mode must be reliable or best-effort", http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// Counters: user messages received (NotifyMsg), members, health.
	mux.HandleFunc("GET /v1/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"messages_received": del.msgs.Load(), "message_bytes_received": del.msgBytes.Load(),
			"members": m.NumMembers(), "health_score": m.GetHealthScore(),
		})
	})
	mux.HandleFunc("PUT /v1/meta", func(w http.ResponseWriter, r *http.Request) {
		if !auth.allowWrite(w, r) {
			return
		}
		// MaxBytesReader also stops the server from reading on past the limit.
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, memberlist.MetaMaxSize))
		if err != nil || len(b) > memberlist.MetaMaxSize {
			http.Error(w, fmt.Sprintf("metadata must be at most %d bytes", memberlist.MetaMaxSize), http.StatusBadRequest)
			return
		}
		del.mu.Lock()
		del.meta = b
		del.mu.Unlock()
		if err := m.UpdateNode(metaUpdateTimeout); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.line("meta", fmt.Sprintf("%s set to %q", m.LocalNode().Name, b), slog.String("node", m.LocalNode().Name), slog.String("meta", string(b)))
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
