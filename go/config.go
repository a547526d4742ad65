//go:build cgo

package memberlist

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	multierror "github.com/hashicorp/go-multierror"
)

// Config is the configuration of a Memberlist: memberlist's Config, field for field. Create
// reads it, writes the chosen port back into BindPort/AdvertisePort when BindPort is 0, and
// sets Keyring from SecretKey; after Create the caller must not modify it.
type Config struct {
	// Name of this node; unique in the cluster.
	Name string

	// Transport: nil (the default) makes libmemberlist bind UDP and TCP on BindAddr:BindPort
	// itself. A *NetTransport is taken over: its one address and port are used and the Go
	// transport is shut down. Any other Transport (MockTransport, your own) carries the node's
	// packets and streams: libmemberlist still frames, encrypts and times out everything and
	// advertises what FinalAdvertiseAddr returns; the Transport is shut down by Shutdown.
	Transport Transport

	// Label is prefixed to every packet and stream; traffic with another label is dropped.
	Label string
	// SkipInboundLabelCheck accepts unlabeled traffic as if it carried Label.
	SkipInboundLabelCheck bool

	// BindAddr and BindPort: where to listen (UDP and TCP). BindPort 0 lets the kernel choose;
	// Create then writes the port into BindPort and AdvertisePort.
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort: the address peers should use ("" = the bound one).
	AdvertiseAddr string
	AdvertisePort int

	// ProtocolVersion spoken, ProtocolVersionMin..ProtocolVersionMax.
	ProtocolVersion uint8

	// TCPTimeout bounds a TCP exchange (push/pull, reliable message, TCP ping), dial included.
	TCPTimeout time.Duration

	// IndirectChecks: nodes asked to probe a node that missed a direct ping.
	IndirectChecks int

	// RetransmitMult: each broadcast is sent RetransmitMult * ceil(log10(N+1)) times.
	RetransmitMult int

	// SuspicionMult and SuspicionMaxTimeoutMult set the suspicion timeout (Lifeguard).
	SuspicionMult           int
	SuspicionMaxTimeoutMult int

	// PushPullInterval: full state sync with a random node; 0 disables it.
	PushPullInterval time.Duration

	// PushPullNodes: how many random nodes to push/pull with per PushPullInterval; 0 (or a
	// negative value) means 1. From grafana/memberlist's fork (see NodeSelection).
	PushPullNodes int

	// ProbeInterval and ProbeTimeout: failure detection.
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration

	// DisableTcpPings turns off the TCP fallback ping.
	DisableTcpPings bool

	// DisableTcpPingsForNode, when set, is asked (on libmemberlist's loop thread) each time a
	// probe of nodeName got no direct ack; true means no TCP fallback ping to it this time.
	DisableTcpPingsForNode func(nodeName string) bool

	// AwarenessMaxMultiplier bounds the Lifeguard probe-interval back-off.
	AwarenessMaxMultiplier int

	// GossipInterval, GossipNodes, GossipToTheDeadTime: the gossip rounds.
	GossipInterval      time.Duration
	GossipNodes         int
	GossipToTheDeadTime time.Duration

	// With encryption: refuse unencrypted input / encrypt output.
	GossipVerifyIncoming bool
	GossipVerifyOutgoing bool

	// EnableCompression: compress packets (when smaller) and streams, with CompressionAlgorithm.
	EnableCompression bool

	// CompressionAlgorithm (grafana/memberlist's, not in hashicorp/memberlist): what
	// EnableCompression sends. "" or CompressionAlgorithmLZW is what every memberlist reads;
	// CompressionAlgorithmSnappy only grafana/memberlist and libmemberlist nodes read, so set
	// it only when every node of the cluster is one of those. Both are always accepted.
	CompressionAlgorithm CompressionAlgorithm

	// SecretKey (16, 24 or 32 bytes) turns on encryption; Create adds it to Keyring (building
	// one when Keyring is nil) and makes it the primary key.
	SecretKey []byte

	// Keyring: the live keyring shared with the node (see Keyring).
	Keyring *Keyring

	// Delegates; any may be nil. See each interface for its contract.
	Delegate                Delegate
	DelegateProtocolVersion uint8
	DelegateProtocolMin     uint8
	DelegateProtocolMax     uint8
	Events                  EventDelegate
	Conflict                ConflictDelegate
	Merge                   MergeDelegate
	Ping                    PingDelegate
	Alive                   AliveDelegate
	// NodeSelection, when set, narrows the gossip and push/pull targets (zone-aware gossip); see
	// NodeSelectionDelegate. From grafana/memberlist's fork; nil picks as memberlist does.
	NodeSelection NodeSelectionDelegate

	// DNSConfigPath: the resolv.conf used when Join is given host names.
	DNSConfigPath string

	// LogOutput or Logger (not both): where logs go; default os.Stderr with log.LstdFlags.
	// Lines look like "[DEBUG] memberlist: ...".
	LogOutput io.Writer
	Logger    *log.Logger

	// HandoffQueueDepth: queued incoming messages before dropping.
	HandoffQueueDepth int

	// UDPBufferSize: the packet budget for gossip and piggybacking.
	UDPBufferSize int

	// MetaMaxSize (libmemberlist's, not in hashicorp/memberlist, where MetaMaxSize is only the
	// package constant): the most metadata Delegate.NodeMeta may return, and the limit it is
	// called with. 0 means the constant MetaMaxSize (512), memberlist's behaviour. Larger values
	// are for clusters of libmemberlist nodes that all set at least as much: hashicorp/memberlist
	// nodes accept larger metadata, but libmemberlist nodes at the default drop it. At most what
	// an alive message in one UDPBufferSize packet can carry (Create says how much that is).
	MetaMaxSize int

	// TCPOnly (libmemberlist's, not in hashicorp/memberlist): no UDP socket; packets travel over
	// TCP too, one connection each, in the framing of Grafana dskit's TCPTransport, so the node
	// can join a Loki/Mimir/Tempo memberlist ring (docs/transport-tcp.md). Every node of the
	// cluster must use that framing: a UDP node cannot talk to it. UDPBufferSize may then exceed
	// 65,507 (dskit sets 10 MiB). Not with a Transport other than NetTransport.
	TCPOnly bool

	// DeadNodeReclaimTime: after this a dead node's name may come back from another address.
	DeadNodeReclaimTime time.Duration

	// ReclaimNameOnNewAddress (libmemberlist's, not in hashicorp/memberlist): lets a node that
	// restarts under its name at a new address (a new pod, a new DHCP lease; memberlist #157)
	// take the name there, where memberlist logs "Conflicting address" and refuses it. When
	// the name's holder is dead (or left) the new address is taken at once, without waiting for
	// DeadNodeReclaimTime. When it is alive or suspect, this node first pings the old address
	// (the ping names the node, as probes do); no ack within ProbeTimeout means the old
	// incarnation is gone: NotifyLeave for it, NotifyJoin at the new address. An ack means two
	// live nodes claim the name: the conflict is reported as memberlist reports it (log,
	// ConflictDelegate). false (the zero value) is memberlist's behaviour. Each node decides for
	// itself: hashicorp/memberlist peers keep refusing until their own rules let them
	// (docs/protocol.md, "Name reuse with a new address").
	ReclaimNameOnNewAddress bool

	// RequireNodeNames: refuse to send to an address without a node name.
	RequireNodeNames bool

	// CIDRsAllowed: networks nodes may come from; nil or empty allows all.
	CIDRsAllowed []net.IPNet

	// MetricLabels are added to every go-metrics metric this node emits. libmemberlist's
	// counters are read once a second and emitted as go-metrics counters and gauges under
	// memberlist's names (see metrics.go for which).
	MetricLabels []metrics.Label

	// QueueCheckInterval: how often queue depths are sampled.
	QueueCheckInterval time.Duration

	// MsgpackUseNewTimeFormat has no effect: libmemberlist encodes no time values.
	MsgpackUseNewTimeFormat bool
}

// ParseCIDRs parses CIDR strings ("10.0.0.0/8") for Config.CIDRsAllowed. nil gives an empty,
// allow-all list. The good entries are returned even when some are bad; the error is then a
// *multierror.Error naming each bad one ("invalid cidr: ...").
func ParseCIDRs(v []string) ([]net.IPNet, error) {
	nets := make([]net.IPNet, 0)
	if v == nil {
		return nets, nil
	}
	var errs *multierror.Error
	for _, p := range v {
		_, n, err := net.ParseCIDR(strings.TrimSpace(p))
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("invalid cidr: %s", p))
			continue
		}
		nets = append(nets, *n)
	}
	if errs == nil {
		return nets, nil
	}
	return nets, errs
}

// CompressionAlgorithm selects what Config.EnableCompression sends (grafana/memberlist's type,
// with its names and values).
type CompressionAlgorithm string

const (
	// CompressionAlgorithmLZW is memberlist's LZW, the default, read by every memberlist.
	CompressionAlgorithmLZW CompressionAlgorithm = "lzw"
	// CompressionAlgorithmSnappy is Snappy's block format, read by grafana/memberlist and
	// libmemberlist but not hashicorp/memberlist.
	CompressionAlgorithmSnappy CompressionAlgorithm = "snappy"
)

// DefaultLANConfig is memberlist's LAN preset (also libmemberlist's ML_PRESET_LAN).
func DefaultLANConfig() *Config {
	hostname, _ := os.Hostname()
	return &Config{
		Name:                    hostname,
		BindAddr:                "0.0.0.0",
		BindPort:                7946,
		AdvertiseAddr:           "",
		AdvertisePort:           7946,
		ProtocolVersion:         ProtocolVersion2Compatible,
		TCPTimeout:              10 * time.Second,
		IndirectChecks:          3,
		RetransmitMult:          4,
		SuspicionMult:           4,
		SuspicionMaxTimeoutMult: 6,
		PushPullInterval:        30 * time.Second,
		PushPullNodes:           1,
		ProbeTimeout:            500 * time.Millisecond,
		ProbeInterval:           1 * time.Second,
		DisableTcpPings:         false,
		AwarenessMaxMultiplier:  8,
		GossipNodes:             3,
		GossipInterval:          200 * time.Millisecond,
		GossipToTheDeadTime:     30 * time.Second,
		GossipVerifyIncoming:    true,
		GossipVerifyOutgoing:    true,
		EnableCompression:       true,
		CompressionAlgorithm:    CompressionAlgorithmLZW,
		DNSConfigPath:           "/etc/resolv.conf",
		HandoffQueueDepth:       1024,
		UDPBufferSize:           1400,
		QueueCheckInterval:      30 * time.Second,
	}
}

// DefaultWANConfig is memberlist's WAN preset: the LAN one with longer timeouts.
func DefaultWANConfig() *Config {
	conf := DefaultLANConfig()
	conf.TCPTimeout = 30 * time.Second
	conf.SuspicionMult = 6
	conf.PushPullInterval = 60 * time.Second
	conf.PushPullNodes = 1
	conf.ProbeTimeout = 3 * time.Second
	conf.ProbeInterval = 5 * time.Second
	conf.GossipNodes = 4
	conf.GossipInterval = 500 * time.Millisecond
	conf.GossipToTheDeadTime = 60 * time.Second
	return conf
}

// DefaultLocalConfig is memberlist's loopback/local preset: the LAN one with shorter timeouts.
func DefaultLocalConfig() *Config {
	conf := DefaultLANConfig()
	conf.TCPTimeout = time.Second
	conf.IndirectChecks = 1
	conf.RetransmitMult = 2
	conf.SuspicionMult = 3
	conf.PushPullInterval = 15 * time.Second
	conf.PushPullNodes = 1
	conf.ProbeTimeout = 200 * time.Millisecond
	conf.ProbeInterval = time.Second
	conf.GossipInterval = 100 * time.Millisecond
	conf.GossipToTheDeadTime = 15 * time.Second
	return conf
}

// IPMustBeChecked reports whether CIDRsAllowed restricts peers.
func (c *Config) IPMustBeChecked() bool {
	return len(c.CIDRsAllowed) > 0
}

// IPAllowed returns an error when ip is outside CIDRsAllowed (nil when unrestricted).
func (c *Config) IPAllowed(ip net.IP) error {
	if !c.IPMustBeChecked() {
		return nil
	}
	for _, n := range c.CIDRsAllowed {
		if n.Contains(ip) {
			return nil
		}
	}
	return fmt.Errorf("%s is not allowed", ip)
}

// EncryptionEnabled reports whether the keyring holds a key.
func (c *Config) EncryptionEnabled() bool {
	return c.Keyring != nil && len(c.Keyring.GetKeys()) > 0
}

// BuildVsnArray returns the six version bytes this node advertises:
// protocol min, max, current, then delegate min, max, current.
func (c *Config) BuildVsnArray() []uint8 {
	return []uint8{
		ProtocolVersionMin, ProtocolVersionMax, c.ProtocolVersion,
		c.DelegateProtocolMin, c.DelegateProtocolMax, c.DelegateProtocolVersion,
	}
}

// configEntry is one C configuration key, the Config field it comes from, and its value.
type configEntry struct{ key, field, value string }

// entries returns the C configuration keys and values for c (docs/config.md). Fields handled
// elsewhere (delegates, logging, keyring, transport) are not included.
func (c *Config) entries() []configEntry {
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	i := func(v int) string { return fmt.Sprint(v) }
	d := func(v time.Duration) string { return v.String() }
	metaMax := c.MetaMaxSize
	if metaMax == 0 {
		metaMax = MetaMaxSize
	}
	pushPullNodes := c.PushPullNodes
	if pushPullNodes < 0 { // the fork's rule: anything below 1 means 1
		pushPullNodes = 0
	}
	cidrs := make([]string, 0, len(c.CIDRsAllowed))
	for _, n := range c.CIDRsAllowed {
		cidrs = append(cidrs, n.String())
	}
	return []configEntry{
		{"name", "Name", c.Name},
		{"label", "Label", c.Label},
		{"skip_inbound_label_check", "SkipInboundLabelCheck", b(c.SkipInboundLabelCheck)},
		{"bind_addr", "BindAddr", c.BindAddr},
		{"bind_port", "BindPort", i(c.BindPort)},
		{"advertise_addr", "AdvertiseAddr", c.AdvertiseAddr},
		{"advertise_port", "AdvertisePort", i(c.AdvertisePort)},
		{"protocol_version", "ProtocolVersion", i(int(c.ProtocolVersion))},
		{"tcp_timeout", "TCPTimeout", d(c.TCPTimeout)},
		{"indirect_checks", "IndirectChecks", i(c.IndirectChecks)},
		{"retransmit_mult", "RetransmitMult", i(c.RetransmitMult)},
		{"suspicion_mult", "SuspicionMult", i(c.SuspicionMult)},
		{"suspicion_max_timeout_mult", "SuspicionMaxTimeoutMult", i(c.SuspicionMaxTimeoutMult)},
		{"push_pull_interval", "PushPullInterval", d(c.PushPullInterval)},
		{"push_pull_nodes", "PushPullNodes", i(pushPullNodes)},
		{"probe_interval", "ProbeInterval", d(c.ProbeInterval)},
		{"probe_timeout", "ProbeTimeout", d(c.ProbeTimeout)},
		{"disable_tcp_pings", "DisableTcpPings", b(c.DisableTcpPings)},
		{"awareness_max_multiplier", "AwarenessMaxMultiplier", i(c.AwarenessMaxMultiplier)},
		{"gossip_interval", "GossipInterval", d(c.GossipInterval)},
		{"gossip_nodes", "GossipNodes", i(c.GossipNodes)},
		{"gossip_to_the_dead_time", "GossipToTheDeadTime", d(c.GossipToTheDeadTime)},
		{"gossip_verify_incoming", "GossipVerifyIncoming", b(c.GossipVerifyIncoming)},
		{"gossip_verify_outgoing", "GossipVerifyOutgoing", b(c.GossipVerifyOutgoing)},
		{"enable_compression", "EnableCompression", b(c.EnableCompression)},
		{"compression_algorithm", "CompressionAlgorithm", string(c.CompressionAlgorithm)},
		{"delegate_protocol_version", "DelegateProtocolVersion", i(int(c.DelegateProtocolVersion))},
		{"delegate_protocol_min", "DelegateProtocolMin", i(int(c.DelegateProtocolMin))},
		{"delegate_protocol_max", "DelegateProtocolMax", i(int(c.DelegateProtocolMax))},
		{"dns_config_path", "DNSConfigPath", c.DNSConfigPath},
		{"handoff_queue_depth", "HandoffQueueDepth", i(c.HandoffQueueDepth)},
		{"udp_buffer_size", "UDPBufferSize", i(c.UDPBufferSize)},
		{"meta_max_size", "MetaMaxSize", i(metaMax)},
		{"tcp_only", "TCPOnly", b(c.TCPOnly)},
		{"dead_node_reclaim_time", "DeadNodeReclaimTime", d(c.DeadNodeReclaimTime)},
		{"reclaim_name_on_new_address", "ReclaimNameOnNewAddress", b(c.ReclaimNameOnNewAddress)},
		{"require_node_names", "RequireNodeNames", b(c.RequireNodeNames)},
		{"cidrs_allowed", "CIDRsAllowed", strings.Join(cidrs, ",")},
		{"queue_check_interval", "QueueCheckInterval", d(c.QueueCheckInterval)},
	}
}
