package memberlist

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	multierror "github.com/hashicorp/go-multierror"
)

var errNodeNamesAreRequired = errors.New("memberlist: node names are required by configuration but one was not provided")

// errShutdown is returned by operations on a Memberlist that has been shut down.
var errShutdown = errors.New("memberlist: this memberlist has been shut down")

// Memberlist is a running node: a libmemberlist node (on its own event-loop thread, or on a
// shared one: runtimes.go) behind the API of hashicorp/memberlist.
type Memberlist struct {
	config *Config
	logger *log.Logger
	cb     *callbackState

	// hmu guards c, users and closing. Every call into C holds a use of c (users) without
	// holding hmu; the C handle is destroyed by Shutdown, or by the last use still running when
	// Shutdown ends, so no call ever waits for another to release the handle (a delegate may
	// call Shutdown while a Join of the same node is in flight, as memberlist allows).
	hmu     sync.Mutex
	c       *C.ml_memberlist_t
	users   int
	closing bool

	shutdownStarted atomic.Bool // the first Shutdown call does the Go-side work
	shutdown        atomic.Bool // set once the node is shut down

	// Snapshots taken at Shutdown, served afterwards (the C handle is gone by then). Written
	// under hmu together with closing, read after a use of c was refused.
	finalMembers []*Node
	finalLocal   *Node
	finalHealth  int

	metrics *metricsPump

	// rt is the shared runtime the node runs on (nil: a private one), given back right after
	// ml_memberlist_destroy (runtimes.go).
	rt *sharedRuntime
}

// Create starts a node from conf: it validates the configuration, builds the keyring from
// SecretKey, binds BindAddr:BindPort (writing the chosen port back into conf.BindPort and
// conf.AdvertisePort when BindPort is 0), marks itself alive and starts its timers. It does not
// contact any other node; see Join.
func Create(conf *Config) (*Memberlist, error) {
	if libVersionErr != nil {
		return nil, libVersionErr
	}
	if conf == nil {
		return nil, fmt.Errorf("memberlist: Create needs a Config")
	}
	if conf.ProtocolVersion < ProtocolVersionMin {
		return nil, fmt.Errorf("protocol version '%d' too low. Must be in range: [%d, %d]",
			conf.ProtocolVersion, ProtocolVersionMin, ProtocolVersionMax)
	} else if conf.ProtocolVersion > ProtocolVersionMax {
		return nil, fmt.Errorf("protocol version '%d' too high. Must be in range: [%d, %d]",
			conf.ProtocolVersion, ProtocolVersionMin, ProtocolVersionMax)
	}

	if len(conf.SecretKey) > 0 {
		if conf.Keyring == nil {
			keyring, err := NewKeyring(nil, conf.SecretKey)
			if err != nil {
				return nil, err
			}
			conf.Keyring = keyring
		} else {
			if err := conf.Keyring.AddKey(conf.SecretKey); err != nil {
				return nil, err
			}
			if err := conf.Keyring.UseKey(conf.SecretKey); err != nil {
				return nil, err
			}
		}
	}

	if conf.LogOutput != nil && conf.Logger != nil {
		return nil, fmt.Errorf("cannot specify both LogOutput and Logger; please choose a single log configuration setting")
	}
	logger := conf.Logger
	if logger == nil {
		dest := conf.LogOutput
		if dest == nil {
			dest = os.Stderr
		}
		logger = log.New(dest, "", log.LstdFlags)
	}

	if len(conf.Label) > LabelMaxSize {
		return nil, fmt.Errorf("could not use %q as a label: too long", conf.Label)
	}

	// "[::1]" is accepted for an IPv6 literal (memberlist would fail to parse it and bind every
	// address instead).
	bindAddr, bindPort := unbracket(conf.BindAddr), conf.BindPort
	advAddr, advPort := unbracket(conf.AdvertiseAddr), conf.AdvertisePort
	var bridge *transportBridge
	if _, isNet := conf.Transport.(*NetTransport); conf.Transport == nil || isNet {
		// memberlist's NetTransport.FinalAdvertiseAddr, when Create asks for the address.
		if advAddr != "" && net.ParseIP(advAddr) == nil {
			return nil, fmt.Errorf("failed to get final advertise address: failed to parse advertise address %q", conf.AdvertiseAddr)
		}
	}
	if conf.Transport == nil && net.ParseIP(bindAddr) == nil {
		// memberlist would bind every address (and advertise "::"); libmemberlist binds one IP.
		return nil, fmt.Errorf("could not set up network transport: failed to parse bind address %q", conf.BindAddr)
	}
	if conf.Transport != nil {
		if nt, ok := conf.Transport.(*NetTransport); ok {
			// libmemberlist's own sockets replace the Go ones, on the same address and port.
			addr, port, err := nt.takeOver()
			if err != nil {
				return nil, err
			}
			bindAddr, bindPort = addr, port
		} else {
			if conf.TCPOnly {
				return nil, fmt.Errorf("memberlist: Config.TCPOnly selects libmemberlist's own TCP-only transport; it cannot be combined with a Config.Transport other than *NetTransport")
			}
			var err error
			if advAddr, advPort, err = advertiseFor(conf.Transport, conf); err != nil {
				return nil, err
			}
			bridge = newTransportBridge(conf.Transport, logger)
		}
	}

	var cfg *C.ml_config_t
	if rc := C.ml_config_create(&cfg, C.ML_PRESET_LAN); rc != C.ML_OK {
		return nil, fmt.Errorf("memberlist: %s", C.GoString(C.ml_err_string(rc)))
	}
	defer C.ml_config_destroy(cfg) // after a successful create the registrations have moved on

	errbuf := make([]C.char, errBufSize)
	for _, e := range conf.entries() {
		v := e.value
		switch e.key {
		case "bind_addr":
			v = bindAddr
		case "bind_port":
			v = strconv.Itoa(bindPort)
		case "advertise_addr":
			v = advAddr
		case "advertise_port":
			v = strconv.Itoa(advPort)
		}
		if err := configSet(cfg, e.key, v, errbuf); err != nil {
			// libmemberlist names its own key ("gossip_nodes: ..."); the field is named here.
			why := strings.TrimPrefix(err.Error(), e.key+": ")
			return nil, fmt.Errorf("memberlist: invalid Config.%s (%q): %s", e.field, v, why)
		}
	}

	cb := &callbackState{conf: conf, logger: logger, transport: bridge}
	if ch, ok := conf.Events.(*ChannelEventDelegate); ok && ch != nil {
		cb.forwarder = newEventForwarder(ch.Ch)
	}
	register := func(what string, set func(C.uintptr_t) C.ml_err_t) error {
		h := newHandle(cb)
		if rc := set(C.uintptr_t(h)); rc != C.ML_OK {
			mlgoFreeHandle(C.uintptr_t(h))
			return fmt.Errorf("memberlist: %s: %s", what, C.GoString(C.ml_err_string(rc)))
		}
		return nil
	}
	regs := []struct {
		what string
		on   bool
		set  func(C.uintptr_t) C.ml_err_t
	}{
		{"delegate", conf.Delegate != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_delegate(cfg, h) }},
		{"events", conf.Events != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_events(cfg, h) }},
		{"conflict", conf.Conflict != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_conflict(cfg, h) }},
		{"merge", conf.Merge != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_merge(cfg, h) }},
		{"alive", conf.Alive != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_alive(cfg, h) }},
		{"node selection", conf.NodeSelection != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_node_selection(cfg, h) }},
		{"ping", conf.Ping != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_ping(cfg, h) }},
		{"DisableTcpPingsForNode", conf.DisableTcpPingsForNode != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_tcp_pings(cfg, h) }},
		{"log", true, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_log(cfg, C.ML_LOG_DEBUG, h) }},
		{"transport", bridge != nil, func(h C.uintptr_t) C.ml_err_t { return C.mlgo_set_transport(cfg, h) }},
	}
	for _, r := range regs {
		if !r.on {
			continue
		}
		if err := register(r.what, r.set); err != nil {
			return nil, err
		}
	}

	if conf.Keyring != nil {
		kc := conf.Keyring.shared()
		if kc == nil {
			return nil, fmt.Errorf("memberlist: keyring: libmemberlist could not allocate one")
		}
		if rc := C.ml_config_set_keyring(cfg, kc); rc != C.ML_OK {
			return nil, fmt.Errorf("memberlist: keyring: %s", C.GoString(C.ml_err_string(rc)))
		}
	}

	shared, err := acquireRuntime()
	if err != nil {
		if cb.forwarder != nil {
			cb.forwarder.close()
		}
		return nil, err
	}
	var crt *C.ml_runtime_t
	if shared != nil {
		crt = shared.c
	}
	var c *C.ml_memberlist_t
	errbuf[0] = 0
	cb.release()
	rc := C.ml_memberlist_create(&c, crt, cfg, &errbuf[0], C.size_t(len(errbuf)))
	cb.acquire()
	runtime.KeepAlive(conf.Keyring)
	if rc != C.ML_OK {
		shared.release()
		if cb.forwarder != nil {
			cb.forwarder.close()
		}
		return nil, createError(rc, conf, C.GoString(&errbuf[0]), bindAddr, bindPort)
	}
	m := &Memberlist{config: conf, logger: logger, cb: cb, c: c, rt: shared}
	if bridge != nil {
		bridge.start(m)
	}
	m.metrics = startMetrics(m)

	if conf.Transport == nil && conf.BindPort == 0 {
		if local := m.LocalNode(); local != nil {
			conf.BindPort = int(local.Port)
			conf.AdvertisePort = int(local.Port)
			logger.Printf("[DEBUG] memberlist: Using dynamic bind port %d", local.Port)
		}
	}
	if local := m.LocalNode(); local != nil && !specialPurpose(local.Addr) && !conf.EncryptionEnabled() {
		logger.Printf("[WARN] memberlist: Binding to public address without encryption!")
	}
	return m, nil
}

// rfc6890 lists the special-purpose address blocks of RFC 6890 as go-sockaddr has them (which
// memberlist uses to decide whether an advertised address is public).
var rfc6890 = func() []*net.IPNet {
	var out []*net.IPNet
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::1/128", "::/128", "64:ff9b::/96", "::ffff:0:0/96", "100::/64", "2001::/16", "2001:2::/48",
		"2001:db8::/32", "2001:10::/28", "2002::/16", "fc00::/7", "fe80::/10",
	} {
		_, n, _ := net.ParseCIDR(s)
		out = append(out, n)
	}
	return out
}()

// specialPurpose reports whether ip is in an RFC 6890 block (an IPv4 address only in the IPv4
// blocks, as go-sockaddr matches them).
func specialPurpose(ip net.IP) bool {
	v4 := ip.To4() != nil
	for _, n := range rfc6890 {
		if (len(n.Mask) == net.IPv4len) == v4 && n.Contains(ip) {
			return true
		}
	}
	return false
}

func unbracket(addr string) string {
	if len(addr) > 2 && addr[0] == '[' && addr[len(addr)-1] == ']' {
		return addr[1 : len(addr)-1]
	}
	return addr
}

// configSet sets one C configuration key; the error is libmemberlist's text for the value.
func configSet(cfg *C.ml_config_t, key, value string, errbuf []C.char) error {
	ck, cv := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(cv))
	errbuf[0] = 0
	rc := C.ml_config_set(cfg, ck, cv, &errbuf[0], C.size_t(len(errbuf)))
	if rc == C.ML_OK {
		return nil
	}
	if msg := C.GoString(&errbuf[0]); msg != "" {
		return errors.New(msg)
	}
	return errors.New(C.GoString(C.ml_err_string(rc)))
}

// listenErr matches libmemberlist's bind failure, "listen tcp 127.0.0.1:7946: EADDRINUSE
// (address already in use)".
var listenErr = regexp.MustCompile(`^listen (tcp|udp) (\S+): (E[A-Z0-9]+) \(([^()]*)\)$`)

// createError words a failed ml_memberlist_create as memberlist words the same failure: a bind
// error as Go's net package and memberlist's NetTransport report it, e.g. "could not set up
// network transport: failed to obtain an address: failed to start TCP listener on "127.0.0.1"
// port 7946: listen tcp 127.0.0.1:7946: bind: address already in use".
func createError(rc C.ml_err_t, conf *Config, msg, bindAddr string, bindPort int) error {
	if msg == "" {
		msg = C.GoString(C.ml_err_string(rc))
	}
	if rc == C.ML_ERR_TOO_LARGE {
		return fmt.Errorf("Node meta data provided is longer than the limit")
	}
	if rc != C.ML_ERR_NETWORK {
		// The whole-configuration check names libmemberlist's key ("probe_interval: must be
		// positive"); name the Config field instead.
		for _, e := range conf.entries() {
			if rest, ok := strings.CutPrefix(msg, e.key+": "); ok {
				return fmt.Errorf("memberlist: invalid Config.%s: %s", e.field, rest)
			}
		}
		return fmt.Errorf("memberlist: %s", msg)
	}
	if g := listenErr.FindStringSubmatch(msg); g != nil {
		text := g[4]
		if errno, ok := errnoByName[g[3]]; ok {
			text = errno.Error() // Go's wording, e.g. EADDRNOTAVAIL "cannot assign requested address"
		}
		port := bindPort
		if g[1] == "udp" { // memberlist binds UDP on the port its TCP listener got
			if _, p, err := net.SplitHostPort(g[2]); err == nil {
				port, _ = strconv.Atoi(p)
			}
		}
		msg = fmt.Sprintf("failed to start %s listener on %q port %d: listen %s %s: bind: %s",
			strings.ToUpper(g[1]), bindAddr, port, g[1], g[2], text)
	}
	return fmt.Errorf("could not set up network transport: failed to obtain an address: %s", msg)
}

var errnoByName = map[string]syscall.Errno{
	"EADDRINUSE":    syscall.EADDRINUSE,
	"EADDRNOTAVAIL": syscall.EADDRNOTAVAIL,
	"EACCES":        syscall.EACCES,
	"EAFNOSUPPORT":  syscall.EAFNOSUPPORT,
	"EINVAL":        syscall.EINVAL,
}

// handle runs f with the C handle under the read lock, or returns errShutdown once the node
// has been shut down and destroyed.
func (m *Memberlist) withC(f func(c *C.ml_memberlist_t) error) error {
	c := m.useC()
	if c == nil {
		return errShutdown
	}
	defer m.doneC()
	m.cb.release()
	defer m.cb.acquire()
	return f(c)
}

// useC takes a use of the C handle (nil once Shutdown has finished); doneC gives it back.
func (m *Memberlist) useC() *C.ml_memberlist_t {
	m.hmu.Lock()
	defer m.hmu.Unlock()
	if m.c == nil || m.closing {
		return nil
	}
	m.users++
	return m.c
}

func (m *Memberlist) doneC() {
	m.hmu.Lock()
	m.users--
	var last *C.ml_memberlist_t
	if m.users == 0 && m.closing && m.c != nil {
		last, m.c = m.c, nil
	}
	m.hmu.Unlock()
	if last != nil {
		C.ml_memberlist_destroy(last)
		m.rt.release()
	}
}

// Join contacts every given address ("host", "host:port" or "name/host:port"; the default port
// is BindPort; host names are resolved to every address they have), one after another as
// memberlist does, and runs a push/pull state sync with each. It returns how many succeeded and,
// when none did, a *multierror.Error with one entry per address that failed to resolve or to
// join ("failed to join 10.0.0.1:7946: dial tcp 10.0.0.1:7946: connect: connection refused",
// a MergeDelegate's own error text, ...). No addresses is (0, nil).
func (m *Memberlist) Join(existing []string) (int, error) {
	joined := 0
	var errs *multierror.Error
	for _, s := range existing {
		targets, err := m.resolveAddr(s)
		if err != nil {
			err = fmt.Errorf("failed to resolve %s: %v", s, err)
			m.logger.Printf("[WARN] memberlist: %v", err)
			errs = multierror.Append(errs, err)
			continue
		}
		for _, a := range targets {
			if err := m.joinOne(a); err != nil {
				failed := err
				err = fmt.Errorf("failed to join %s: %v", a.Addr, err)
				if failed == errShutdown { // libmemberlist logs the others itself, in these words
					m.logger.Printf("[DEBUG] memberlist: %v", err)
				}
				errs = multierror.Append(errs, err)
				continue
			}
			joined++
		}
	}
	if joined > 0 || errs == nil {
		return joined, nil // a nil *multierror.Error must not become a non-nil error
	}
	return joined, errs
}

// joinOne runs the push/pull of a join with one resolved address.
func (m *Memberlist) joinOne(a Address) error {
	target := a.Addr
	if a.Name != "" {
		target = a.Name + "/" + a.Addr
	}
	ct := C.CString(target)
	defer C.free(unsafe.Pointer(ct))
	arr := (**C.char)(C.malloc(C.size_t(unsafe.Sizeof(ct))))
	defer C.free(unsafe.Pointer(arr))
	*arr = ct

	errbuf := make([]C.char, 4096)
	return m.withC(func(c *C.ml_memberlist_t) error {
		var contacted C.int
		switch rc := C.ml_memberlist_join(c, arr, 1, &contacted, &errbuf[0], C.size_t(len(errbuf))); rc {
		case C.ML_OK:
			return nil
		case C.ML_ERR_CLOSED:
			return errShutdown
		case C.ML_ERR_IN_CALLBACK:
			return fmt.Errorf("memberlist: Join cannot be called from a delegate callback")
		default:
			msg := C.GoString(&errbuf[0])
			if msg == "" {
				return errors.New(C.GoString(C.ml_err_string(rc)))
			}
			// libmemberlist says "failed to join <addr>: <why>"; Join adds that prefix itself.
			if rest, ok := strings.CutPrefix(msg, "failed to join "); ok {
				if i := strings.Index(rest, ": "); i >= 0 {
					msg = rest[i+2:]
				}
			}
			if msg == "node name required" { // RequireNodeNames and no name given
				return errNodeNamesAreRequired
			}
			return errors.New(msg)
		}
	})
}

// resolveAddr turns "[name/]host[:port]" into the addresses to join, as memberlist does: the
// port defaults to BindPort, an IP literal is used as is, a host name is looked up.
func (m *Memberlist) resolveAddr(s string) ([]Address, error) {
	name := ""
	if i := strings.Index(s, "/"); i == 0 {
		return nil, fmt.Errorf("empty node name provided")
	} else if i > 0 {
		name, s = s[:i], s[i+1:]
	}
	if !hasPort(s) {
		s = net.JoinHostPort(strings.Trim(s, "[]"), strconv.Itoa(m.config.BindPort))
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, err
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		if ips, err = net.LookupIP(host); err != nil {
			return nil, err
		}
	}
	out := make([]Address, 0, len(ips))
	for _, ip := range ips {
		out = append(out, Address{Addr: joinHostPort(ip.String(), uint16(port)), Name: name})
	}
	return out, nil
}

// hasPort reports whether s ends in a port: "[v6]:port", or exactly one colon otherwise (a bare
// IPv6 address has several).
func hasPort(s string) bool {
	if strings.LastIndex(s, "[") == 0 {
		return strings.LastIndex(s, ":") > strings.LastIndex(s, "]")
	}
	return strings.Count(s, ":") == 1
}

// timeoutMs converts a Go timeout to the C API's milliseconds (0 = no limit).
func timeoutMs(d time.Duration) C.int64_t {
	if d <= 0 {
		return 0
	}
	ms := d.Milliseconds()
	if ms == 0 {
		ms = 1
	}
	return C.int64_t(ms)
}

// Leave gossips that this node is leaving and waits up to timeout (0 = no limit) for the
// message to spread, if any other node is alive. The node keeps running until Shutdown.
// memberlist panics when Leave is called after Shutdown; this returns an error instead.
func (m *Memberlist) Leave(timeout time.Duration) error {
	if m.shutdown.Load() {
		return fmt.Errorf("memberlist: Leave called after Shutdown")
	}
	return m.withC(func(c *C.ml_memberlist_t) error {
		switch rc := C.ml_memberlist_leave(c, timeoutMs(timeout)); rc {
		case C.ML_OK:
			return nil
		case C.ML_ERR_TIMEOUT:
			return fmt.Errorf("timeout waiting for leave broadcast")
		case C.ML_ERR_CLOSED:
			return fmt.Errorf("memberlist: Leave called after Shutdown")
		case C.ML_ERR_IN_CALLBACK:
			return fmt.Errorf("memberlist: Leave cannot be called from a delegate callback")
		default:
			return cError("memberlist: leave", rc, nil)
		}
	})
}

// UpdateNode re-reads Delegate.NodeMeta and gossips the new metadata, waiting up to timeout
// (0 = no limit) for it to spread if any other node is alive.
func (m *Memberlist) UpdateNode(timeout time.Duration) error {
	return m.withC(func(c *C.ml_memberlist_t) error {
		switch rc := C.ml_memberlist_update_node(c, timeoutMs(timeout)); rc {
		case C.ML_OK:
			return nil
		case C.ML_ERR_TIMEOUT:
			return fmt.Errorf("timeout waiting for update broadcast")
		case C.ML_ERR_TOO_LARGE:
			return fmt.Errorf("Node meta data provided is longer than the limit")
		case C.ML_ERR_CLOSED:
			return errShutdown
		case C.ML_ERR_IN_CALLBACK:
			return fmt.Errorf("memberlist: UpdateNode cannot be called from a delegate callback")
		default:
			return cError("memberlist: update node", rc, nil)
		}
	})
}

// LocalNode returns this node.
func (m *Memberlist) LocalNode() *Node {
	var n *Node
	err := m.withC(func(c *C.ml_memberlist_t) error {
		var list *C.ml_members_t
		if rc := C.ml_memberlist_local(c, &list); rc != C.ML_OK {
			return cError("memberlist: local", rc, nil)
		}
		defer C.ml_members_destroy(list)
		if C.ml_members_count(list) > 0 {
			n = nodeFromC(C.ml_members_get(list, 0), false)
		}
		return nil
	})
	if errors.Is(err, errShutdown) {
		return m.finalLocal
	}
	return n
}

// Members returns every node that is not dead or left, this one included. The nodes are
// snapshots; they must not be modified.
func (m *Memberlist) Members() []*Node {
	nodes, err := m.liveNodes(false)
	if errors.Is(err, errShutdown) {
		return append([]*Node(nil), m.finalMembers...)
	}
	if nodes == nil {
		nodes = []*Node{}
	}
	return nodes
}

// liveNodes reads the members that are not dead or left from the C library, with each one's
// State filled in when withState is set (Members leaves it at StateAlive, as memberlist does).
func (m *Memberlist) liveNodes(withState bool) ([]*Node, error) {
	var nodes []*Node
	err := m.withC(func(c *C.ml_memberlist_t) error {
		var list *C.ml_members_t
		if rc := C.ml_memberlist_members(c, &list); rc != C.ML_OK {
			return cError("memberlist: members", rc, nil)
		}
		defer C.ml_members_destroy(list)
		nodes = nodesFromC(list, withState)
		return nil
	})
	return nodes, err
}

// NumMembers returns the number of nodes that are not dead or left, this one included.
func (m *Memberlist) NumMembers() (alive int) {
	err := m.withC(func(c *C.ml_memberlist_t) error {
		alive = int(C.ml_memberlist_num_members(c))
		return nil
	})
	if errors.Is(err, errShutdown) {
		return len(m.finalMembers)
	}
	return alive
}

// GetHealthScore returns the Lifeguard awareness score: 0 is healthy, higher is worse.
func (m *Memberlist) GetHealthScore() int {
	score := 0
	err := m.withC(func(c *C.ml_memberlist_t) error {
		score = int(C.ml_memberlist_health_score(c))
		return nil
	})
	if errors.Is(err, errShutdown) {
		return m.finalHealth
	}
	return score
}

// ProtocolVersion returns the protocol version this node speaks.
func (m *Memberlist) ProtocolVersion() uint8 {
	return m.config.ProtocolVersion
}

func sendError(op string, rc C.ml_err_t) error {
	switch rc {
	case C.ML_OK:
		return nil
	case C.ML_ERR_CLOSED:
		return errShutdown
	default:
		return cError("memberlist: "+op, rc, nil)
	}
}

// SendBestEffort sends a user message to a node over UDP (not gossiped; no delivery
// guarantee). The node need not be a member: its name and address are used as given.
func (m *Memberlist) SendBestEffort(to *Node, msg []byte) error {
	if to == nil {
		return fmt.Errorf("memberlist: SendBestEffort needs a node")
	}
	return m.SendToAddress(to.FullAddress(), msg)
}

// SendReliable sends a user message to a node over TCP, dialing its address as given (it need
// not be a member, as in memberlist); delivered if no error is returned.
func (m *Memberlist) SendReliable(to *Node, msg []byte) error {
	if to == nil {
		return fmt.Errorf("memberlist: SendReliable needs a node")
	}
	return m.sendToAddress(to.FullAddress(), msg, true, "send reliable to "+to.Name)
}

// SendTo sends a user message over UDP to an address.
//
// Deprecated: use SendBestEffort, or SendToAddress.
func (m *Memberlist) SendTo(to net.Addr, msg []byte) error {
	if to == nil {
		return fmt.Errorf("memberlist: SendTo needs an address")
	}
	return m.SendToAddress(Address{Addr: to.String(), Name: ""}, msg)
}

// SendToAddress sends a user message over UDP to an address.
func (m *Memberlist) SendToAddress(a Address, msg []byte) error {
	return m.sendToAddress(a, msg, false, "send to "+a.String())
}

// sendToAddress sends a user message to an address as given: a datagram, or a stream when
// reliable. op names the call in its error.
func (m *Memberlist) sendToAddress(a Address, msg []byte, reliable bool, op string) error {
	if a.Name == "" && m.config.RequireNodeNames {
		return errNodeNamesAreRequired
	}
	target, err := m.cTarget(a)
	if err != nil {
		return err
	}
	ct := C.CString(target)
	defer C.free(unsafe.Pointer(ct))
	return m.withC(func(c *C.ml_memberlist_t) error {
		if !reliable {
			// Never ML_ERR_IN_CALLBACK: from a callback the datagram is queued.
			rc := C.ml_memberlist_send_to_address(c, ct, bytesPtr(msg), C.size_t(len(msg)))
			runtime.KeepAlive(msg)
			return sendError(op, rc)
		}
		rc := C.ml_memberlist_send_reliable_to_address(c, ct, bytesPtr(msg), C.size_t(len(msg)))
		runtime.KeepAlive(msg)
		if rc == C.ML_ERR_IN_CALLBACK {
			return fmt.Errorf("memberlist: SendReliable cannot be called from a delegate callback")
		}
		return sendError(op, rc)
	})
}

// cTarget is the C library's form of an address, "name/ip:port" (or "ip:port" without a name),
// with a host name resolved as memberlist's NetTransport resolves it when it writes or dials.
func (m *Memberlist) cTarget(a Address) (string, error) {
	host, port, err := net.SplitHostPort(a.Addr)
	if err != nil {
		m.logger.Printf("[ERR] memberlist: Failed to parse address %q: %v", a.Addr, err)
		return "", err
	}
	if net.ParseIP(host) == nil {
		ua, err := net.ResolveUDPAddr("udp", a.Addr)
		if err != nil {
			return "", err
		}
		host = ua.IP.String()
	}
	target := net.JoinHostPort(host, port)
	if a.Name != "" {
		target = a.Name + "/" + target
	}
	return target, nil
}

// SendToUDP sends a user message over UDP.
//
// Deprecated: use SendBestEffort.
func (m *Memberlist) SendToUDP(to *Node, msg []byte) error {
	return m.SendBestEffort(to, msg)
}

// SendToTCP sends a user message over TCP.
//
// Deprecated: use SendReliable.
func (m *Memberlist) SendToTCP(to *Node, msg []byte) error {
	return m.SendReliable(to, msg)
}

// Ping sends one UDP ping to node at addr and waits up to ProbeTimeout for the ack. It returns
// the round-trip time, or a NoPingResponseError.
func (m *Memberlist) Ping(node string, addr net.Addr) (time.Duration, error) {
	if addr == nil {
		return 0, fmt.Errorf("memberlist: Ping needs an address")
	}
	target := addr.String()
	if node == "" && m.config.RequireNodeNames {
		return 0, errNodeNamesAreRequired
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		m.logger.Printf("[ERR] memberlist: Failed to parse address %q: %v", target, err)
		return 0, err
	}
	if net.ParseIP(host) == nil {
		// memberlist's NetTransport resolves the address when it writes the ping.
		ua, err := net.ResolveUDPAddr("udp", target)
		if err != nil {
			return 0, err
		}
		target = ua.String()
	}
	cn, ca := C.CString(node), C.CString(target)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(ca))
	var rtt C.int64_t
	err = m.withC(func(c *C.ml_memberlist_t) error {
		switch rc := C.ml_memberlist_ping(c, cn, ca, &rtt); rc {
		case C.ML_OK:
			return nil
		case C.ML_ERR_TIMEOUT:
			m.logger.Printf("[DEBUG] memberlist: Failed UDP ping: %v (timeout reached)", node)
			return NoPingResponseError{node}
		case C.ML_ERR_IN_CALLBACK:
			return fmt.Errorf("memberlist: Ping cannot be called from a delegate callback")
		default:
			return sendError("ping "+node, rc)
		}
	})
	if err != nil {
		return 0, err
	}
	return time.Duration(rtt), nil
}

// Shutdown stops the node without telling anyone (peers notice by probing; call Leave first to
// leave gracefully). Its ports are free when it returns and no delegate call starts afterwards
// (one already running may finish, as in memberlist). It never waits for a delegate or a
// go-metrics sink, so it may be called with a lock held that delegates or the sink take, and from
// inside any delegate. Members,
// LocalNode, NumMembers and GetHealthScore keep answering with the last state. It is safe to
// call more than once and from several goroutines.
func (m *Memberlist) Shutdown() error {
	c := m.useC()
	if c == nil {
		return nil
	}
	first := m.shutdownStarted.CompareAndSwap(false, true)
	if first && m.cb.forwarder != nil {
		m.cb.forwarder.stopBlocking() // a callback waiting on an unread event channel gives up
	}
	m.cb.release()
	rc := C.ml_memberlist_shutdown(c)
	m.cb.acquire()
	m.doneC()
	if rc != C.ML_OK {
		return cError("memberlist: shutdown", rc, nil)
	}
	if !first {
		return nil
	}
	m.shutdown.Store(true)
	if m.cb.forwarder != nil {
		m.cb.forwarder.close()
	}
	if m.cb.transport != nil {
		if err := m.cb.transport.stop(); err != nil {
			m.logger.Printf("[ERR] Failed to shutdown transport: %v", err)
		}
	}

	m.metrics.stop()
	members, local, health := m.Members(), m.LocalNode(), m.GetHealthScore()
	m.hmu.Lock()
	m.finalMembers, m.finalLocal, m.finalHealth = members, local, health
	m.closing = true
	var last *C.ml_memberlist_t
	if m.users == 0 {
		last, m.c = m.c, nil
	}
	m.hmu.Unlock()
	if last != nil {
		// Otherwise the last call still using the handle destroys it when it returns.
		C.ml_memberlist_destroy(last)
		m.rt.release()
	}
	return nil
}

// nodeFromC copies a C member into a Node.
func nodeFromC(mm *C.ml_member_t, withState bool) *Node {
	if mm == nil {
		return nil
	}
	n := &Node{Name: C.GoString(C.ml_member_name(mm)), Port: uint16(C.ml_member_port(mm))}
	var l C.size_t
	if p := C.ml_member_addr(mm, &l); p != nil && l > 0 {
		n.Addr = net.IP(goBytes(p, l))
	}
	if p := C.ml_member_meta(mm, &l); p != nil && l > 0 {
		n.Meta = goBytes(p, l)
	}
	var v [6]C.uint8_t
	C.ml_member_versions(mm, &v[0])
	n.PMin, n.PMax, n.PCur = uint8(v[0]), uint8(v[1]), uint8(v[2])
	n.DMin, n.DMax, n.DCur = uint8(v[3]), uint8(v[4]), uint8(v[5])
	if withState {
		n.State = NodeStateType(C.ml_member_state(mm))
	}
	return n
}

func nodesFromC(list *C.ml_members_t, withState bool) []*Node {
	count := int(C.ml_members_count(list))
	nodes := make([]*Node, 0, count)
	for i := 0; i < count; i++ {
		if n := nodeFromC(C.ml_members_get(list, C.size_t(i)), withState); n != nil {
			nodes = append(nodes, n)
		}
	}
	return nodes
}
