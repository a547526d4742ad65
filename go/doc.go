// Package memberlist is a drop-in replacement for github.com/hashicorp/memberlist (v0.7.0 API)
// backed by libmemberlist, a C++ implementation of the same SWIM + Lifeguard protocol that is
// wire-compatible with it: nodes using this package and nodes using hashicorp/memberlist
// (v0.1.5 through v0.7.0) form one cluster.
//
// # Using it in place of hashicorp/memberlist
//
// Keep importing "github.com/hashicorp/memberlist" and add to go.mod:
//
//	replace github.com/hashicorp/memberlist => /path/to/libmemberlist/go
//
// The package is cgo over libmemberlist's C API and finds the library with pkg-config
// (`#cgo pkg-config: memberlist`). After `cmake --install` plain pkg-config finds it (add
// <prefix>/lib/pkgconfig to PKG_CONFIG_PATH for a non-standard prefix). Against a build tree,
// set PKG_CONFIG_PATH=<builddir>/pkgconfig; that memberlist.pc carries an rpath to the built
// library. `go build -tags memberlist_static` links libmemberlist.a instead (pkg-config
// memberlist-static), so the program needs no run-time path to libmemberlist. CGO_ENABLED=1 is
// required. The package checks the library version when compiled
// (against the header) and when loaded (ml_version); a mismatch makes Create fail.
//
// # Threading
//
// Each Memberlist runs on its own libmemberlist event loop (or shares one with other
// memberlists of the process: see "Many nodes in one process"). The loop has no thread of its
// own: a goroutine waits in Go's netpoller and runs it when it has work or a timer is due, and
// notifications run on goroutines it starts, so no C thread calls into Go (go/README.md).
// LIBMEMBERLIST_LOOP=thread gives each loop a thread and its notifications threads of their own
// instead; unset, empty or "goroutine" is the default, and any other value makes Create fail.
// "The loop thread" below is whichever thread runs the loop at that moment. Every method may
// be called from any goroutine, also with a lock held that delegates take: as in memberlist,
// no call waits for a delegate in flight. Delegates run in two places:
//
//   - Notifications — Delegate.NotifyMsg, EventDelegate, ConflictDelegate,
//     PingDelegate.NotifyPingComplete and log lines — are queued by the loop and run in order,
//     one at a time for one Memberlist, on goroutines off the loop (memberlist's handler
//     goroutine; libmemberlist notification threads with LIBMEMBERLIST_LOOP=thread). They may
//     block, and may call any method, Shutdown included. User messages received over UDP wait
//     in a queue of at most HandoffQueueDepth (the newest of a packet first, as in
//     memberlist); beyond that they are dropped with memberlist's warning.
//     Shutdown drops what is still queued; a notification already running may finish after it.
//   - Delegates that answer — NodeMeta, GetBroadcasts, LocalState, MergeRemoteState,
//     MergeDelegate, AliveDelegate, AckPayload, DisableTcpPingsForNode, NodeSelectionDelegate
//     — run on the loop thread and must not block: from inside them snapshots (Members, LocalNode, NumMembers,
//     GetHealthScore), non-blocking sends, the Keyring and Shutdown work, while Join, Leave,
//     UpdateNode, Ping and SendReliable return an error instead of deadlocking. In memberlist
//     most of these run with its state lock held, so the same rule already applies there. One
//     case differs: memberlist's Shutdown returns even while such a delegate waits for a lock
//     the caller of Shutdown holds; here it waits for that delegate.
//
// Where memberlist itself deadlocks, this package does not: memberlist calls EventDelegate and
// AliveDelegate with its state lock held, so Members, NumMembers, Join, Leave or UpdateNode
// called from them (or a lock they take held around those calls elsewhere) hangs it. Here
// events run off the loop and those calls work; from AliveDelegate the snapshots work and the
// blocking calls return an error.
//
// A panic in a delegate is recovered and logged; the node keeps running.
//
// ChannelEventDelegate queues, in order, the events its channel cannot take at once and sends
// them from a goroutine; the node waits for the reader only past 1024 queued events (memberlist
// always waits). Shutdown never waits for a reader and drops what is still queued.
//
// Byte slices handed to delegates (NotifyMsg, MergeRemoteState, NotifyPingComplete's payload)
// are copies the delegate may keep; slices a delegate returns are copied before it returns.
//
// # Many nodes in one process: shared runtimes
//
// By default each Memberlist gets a private libmemberlist runtime: one event loop of its own.
// A process that runs many nodes (tests and benchmarks with hundreds of them) can let them
// share a few runtimes instead, which saves most of their idle wake-ups:
//
//   - LIBMEMBERLIST_RUNTIMES=k (an integer from 1 to 1024) in the environment: the memberlists
//     created by the process share at most k runtimes. Each new Memberlist goes to the runtime
//     with the fewest memberlists; runtimes start when first needed and stop when their last
//     Memberlist is shut down. Unset, empty or 0 keeps a private runtime per Memberlist. The
//     variable is read at every Create; any other value makes Create fail with an error that
//     names the variable and the value.
//   - SetSharedRuntimes(k) does the same from the program and overrides the variable for the
//     rest of the process (0 restores private runtimes). It applies to the memberlists created
//     afterwards; running ones stay where they are.
//
// Shared runtimes fire their nodes' protocol timers on a common 10 ms grid (at most 10 ms late)
// so that many nodes' probes and gossip rounds wake the loop together.
//
// One thing changes: a delegate that answers (NodeMeta, GetBroadcasts, LocalState,
// MergeRemoteState, the MergeDelegate and AliveDelegate vetoes, AckPayload,
// DisableTcpPingsForNode) runs on its runtime's loop thread, so while it blocks every
// Memberlist on that runtime stands still, not just its own. memberlist has the same rule in
// spirit: its gossip goroutine stalls while GetBroadcasts blocks. Notifications (NotifyMsg,
// EventDelegate, ConflictDelegate, NotifyPingComplete, log lines) are unaffected: they run on
// goroutines (or notification threads) of their own, and one that blocks holds up no other
// Memberlist's.
//
// # Differences from hashicorp/memberlist
//
// Apart from the differences below, return values, error types (Join's and ParseCIDRs'
// *multierror.Error) and error texts follow memberlist v0.7.0; api_edges_test.go checks the
// edge cases here, and interop/dropin runs the same checks against memberlist itself.
// differences_test.go checks that each difference below still holds, where a test can.
//
//   - go-metrics: memberlist's counters and gauges are emitted (with Config.MetricLabels) from
//     libmemberlist's counters once a second, aggregated, instead of at each event. Its timers
//     (memberlist.gossip, probeNode, pushPullNode) and the memberlist.size.local gauge are
//     emitted once per event, with the durations libmemberlist measured, but up to a second
//     late; memberlist.size.remote (memberlist's sample for encrypted push/pull) is not.
//   - Config.Transport: nil, a *NetTransport (taken over: Create shuts it down and libmemberlist
//     binds its one address and port itself, so it must have exactly one bind address), or any
//     other Transport (MockTransport, your own), which then carries the packets and streams
//     while libmemberlist does the rest.
//   - BindAddr must be an IP address: memberlist binds every address when it is not (e.g.
//     "localhost" or "") and advertises "::"; Create and NewNetTransport fail here
//     (`failed to parse bind address "localhost"`). A bracketed IPv6 literal ("[::1]") is
//     accepted as BindAddr and AdvertiseAddr, which memberlist does not parse.
//   - The configuration is validated as a whole by libmemberlist, so Create refuses values
//     memberlist accepts, e.g. a negative GossipNodes or UDPBufferSize, an empty Name, or a
//     zero ProbeInterval (memberlist then never probes), TCPTimeout, ProbeTimeout,
//     SuspicionMult or RetransmitMult.
//   - Leave after Shutdown returns an error (memberlist panics), and so does metadata over
//     MetaMaxSize from Delegate.NodeMeta at Create or UpdateNode.
//   - Config.MetaMaxSize is an addition: 0 keeps the MetaMaxSize constant (512); a larger
//     value lets NodeMeta return that much, for clusters whose libmemberlist nodes all set it.
//     memberlist nodes accept such metadata from peers; libmemberlist nodes left at 512 drop it
//     (docs/protocol.md, "Metadata beyond 512 bytes").
//   - Config.CompressionAlgorithm is an addition from grafana/memberlist, with its names and
//     values: CompressionAlgorithmLZW (the default) or CompressionAlgorithmSnappy, which only
//     grafana/memberlist and libmemberlist nodes read. Both are always accepted, as the fork
//     does; hashicorp/memberlist refuses Snappy (docs/protocol.md, "Snappy compression").
//   - Config.ReclaimNameOnNewAddress is an addition (false keeps memberlist's behaviour): a
//     node restarted under its name at a new address takes the name there at once when its old
//     entry is dead, and after a ping to the old address goes unanswered (ProbeTimeout) when it
//     is alive or suspect: NotifyLeave for the old incarnation, NotifyJoin for the new. An ack
//     is memberlist's conflict (docs/protocol.md, "Name reuse with a new address").
//   - Config.NodeSelection (NodeSelectionDelegate, NodeState) and Config.PushPullNodes are
//     additions from grafana/memberlist's fork (used by Loki, Mimir and Tempo through dskit for
//     zone-aware gossip), with its names and semantics, so dskit's code builds against this
//     package. SelectNodes runs on the loop thread like AliveDelegate (see Threading), and
//     NodeState.StateChange is the zero time. PushPullNodes defaults to 1 in every preset, as
//     in the fork; hashicorp/memberlist always push/pulls with one node.
//   - Config.TCPOnly is an addition: true binds no UDP socket and sends packets over TCP, one
//     connection each, in Grafana dskit's TCPTransport framing (a node can join a Loki, Mimir or
//     Tempo ring); UDPBufferSize may then exceed 65,507. It cannot be mixed with UDP nodes nor
//     combined with a Transport other than *NetTransport (docs/transport-tcp.md).
//   - A nil argument returns an error where memberlist dereferences it and panics: Create(nil),
//     SendBestEffort/SendReliable/SendToUDP/SendToTCP(nil, ...), SendTo(nil, ...),
//     Ping(name, nil), NewNetTransport(nil). Likewise a TransmitLimitedQueue with a nil
//     NumNodes counts one node, and RemoveKey on an empty Keyring returns nil.
//   - SendReliable's error says only what kind of failure it was ("memberlist: send reliable
//     to node1: network error"): libmemberlist's C call reports no text, where memberlist
//     returns the dial or write error itself ("dial tcp ...: connect: connection refused").
//   - SendBestEffort, SendToAddress and SendTo queue the packet and return; a failed UDP write
//     is logged, not returned.
//   - Members and LocalNode return fresh snapshots on every call rather than pointers into live
//     state.
//   - A Keyring backs at most one running Memberlist (Create fails for a second one); memberlist
//     lets several share it. GetKeys returns copies of the keys.
//   - Join resolves host names with Go's resolver only; memberlist first asks the first server
//     in DNSConfigPath over TCP (to get more addresses than a UDP answer holds).
//   - Join, Leave, UpdateNode, Ping and SendReliable called from inside a delegate that answers
//     (NodeMeta, GetBroadcasts, LocalState, MergeRemoteState, MergeDelegate, AliveDelegate,
//     AckPayload, DisableTcpPingsForNode) return an error instead of deadlocking, and Shutdown
//     waits for such a delegate (memberlist's does not); see Threading. From notifications
//     (NotifyMsg, events) every method works, as in memberlist.
//   - ChannelEventDelegate does not hold the node up while its channel is full: events are
//     queued in order, and its notifications wait for the reader only past 1024 of them (memberlist
//     always waits; see Threading).
//   - Shutdown releases everything; afterwards Members, LocalNode, NumMembers and
//     GetHealthScore report the last state and the other methods return errors (memberlist's
//     Join would still dial).
//   - Log lines about the protocol's own work, written by libmemberlist (or by the bridge to a
//     custom Transport, which cannot tell what a packet carries), use memberlist's format and
//     level prefixes; the lines memberlist's operators grep for use its words and levels, but
//     not every line has its exact counterpart (e.g. errors from decoding a packet keep
//     libmemberlist's own words, and the Transport bridge logs lines memberlist does not).
package memberlist
