package memberlist

// The //export trampolines: the only Go functions C calls. Notifications (NotifyMsg, events,
// conflicts, ping completions, log lines) run on a runner goroutine (a libmemberlist
// notification thread with LIBMEMBERLIST_LOOP=thread), one at a time and in order for one
// memberlist; callbacks that answer run on whichever thread runs its event loop (doc.go,
// Threading). Each finds its state through the cgo.Handle passed as `user`, recovers
// any panic from user code (logging it; the node keeps running), and copies whatever C memory
// it hands to user code, so no Go code keeps a pointer into C and C keeps no Go pointer.

/*
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"log"
	"os"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// callbackState is what every registration's handle points to.
type callbackState struct {
	conf      *Config
	logger    *log.Logger
	forwarder *eventForwarder  // for a *ChannelEventDelegate, else nil
	transport *transportBridge // for a custom Config.Transport, else nil
	departed  departedNodes    // nodes that left or died, for MembersWithState

	// hb carries happens-before edges across the C library, which Go's memory model (and the
	// race detector) cannot see: API calls release before calling into C and acquire after;
	// callbacks acquire on entry and release on exit. So what a delegate wrote is visible to
	// the goroutine whose Join/UpdateNode/... returned after it, and the other way round.
	hb atomic.Int64
}

func (cb *callbackState) acquire() { cb.hb.Load() }
func (cb *callbackState) release() { cb.hb.Add(1) }

// enter finds the state of a callback and acquires; the caller defers cb.release().
func stateOf(h C.uintptr_t) *callbackState {
	cb := cgo.Handle(uintptr(h)).Value().(*callbackState)
	cb.acquire()
	return cb
}

// recoverCallback logs a panic raised by user code in a callback instead of letting it unwind
// into C. It must be deferred directly.
func recoverCallback(cb *callbackState, where string) {
	if r := recover(); r != nil {
		logPanic(cb, where, "the node keeps running", r)
	}
}

// recoverAnswer is recoverCallback for a callback that returns an answer to libmemberlist:
// after logging, answer(r) sets the result the node gets instead (`then` says what it does
// with it). It must be deferred directly.
func recoverAnswer(cb *callbackState, where, then string, answer func(r any)) {
	if r := recover(); r != nil {
		logPanic(cb, where, then, r)
		answer(r)
	}
}

func logPanic(cb *callbackState, where, then string, r any) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if cb != nil && cb.logger != nil {
		logger = cb.logger
	}
	logger.Printf("[ERR] memberlist: panic in %s (recovered; %s): %v\n%s", where, then, r, debug.Stack())
}

// liveHandles counts registrations whose user_free has not run yet (tests check it returns to
// zero: the library releases every handle it was given).
var liveHandles atomic.Int64

func newHandle(cb *callbackState) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(cb)
}

//export mlgoFreeHandle
func mlgoFreeHandle(h C.uintptr_t) {
	cgo.Handle(uintptr(h)).Delete()
	liveHandles.Add(-1)
}

//export mlgoNodeMeta
func mlgoNodeMeta(h C.uintptr_t, buf *C.uint8_t, limit C.size_t) (n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Delegate.NodeMeta")
	meta := cb.conf.Delegate.NodeMeta(int(limit))
	if len(meta) > 0 && limit > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(limit)), meta)
	}
	// A result over the limit is reported as such by the library (Create / UpdateNode fail).
	return C.size_t(len(meta))
}

//export mlgoNotifyMsg
func mlgoNotifyMsg(h C.uintptr_t, msg *C.uint8_t, n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Delegate.NotifyMsg")
	buf := goBytes(msg, n)
	if buf == nil {
		buf = []byte{}
	}
	cb.conf.Delegate.NotifyMsg(buf)
}

//export mlgoGetBroadcasts
func mlgoGetBroadcasts(h C.uintptr_t, overhead, limit C.size_t, emit C.mlgo_emit_fn, ctx unsafe.Pointer) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Delegate.GetBroadcasts")
	for _, msg := range cb.conf.Delegate.GetBroadcasts(int(overhead), int(limit)) {
		// C copies the bytes before emit returns.
		C.mlgo_call_emit(emit, ctx, bytesPtr(msg), C.size_t(len(msg)))
	}
}

//export mlgoLocalState
func mlgoLocalState(h C.uintptr_t, join C.int, emit C.mlgo_emit_fn, ctx unsafe.Pointer) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Delegate.LocalState")
	state := cb.conf.Delegate.LocalState(join != 0)
	C.mlgo_call_emit(emit, ctx, bytesPtr(state), C.size_t(len(state)))
}

//export mlgoMergeRemoteState
func mlgoMergeRemoteState(h C.uintptr_t, buf *C.uint8_t, n C.size_t, join C.int) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Delegate.MergeRemoteState")
	cb.conf.Delegate.MergeRemoteState(goBytes(buf, n), join != 0)
}

//export mlgoEvent
func mlgoEvent(h C.uintptr_t, ev C.int, member *C.ml_member_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "EventDelegate")
	node := nodeFromC(member, false)
	switch ev {
	case C.ML_EVENT_LEAVE:
		cb.departed.add(node, NodeStateType(C.ml_member_state(member)))
	case C.ML_EVENT_JOIN:
		cb.departed.remove(node.Name)
	}
	if cb.forwarder != nil {
		cb.forwarder.push(NodeEvent{Event: NodeEventType(ev), Node: node})
		return
	}
	switch ev {
	case C.ML_EVENT_JOIN:
		cb.conf.Events.NotifyJoin(node)
	case C.ML_EVENT_LEAVE:
		cb.conf.Events.NotifyLeave(node)
	case C.ML_EVENT_UPDATE:
		cb.conf.Events.NotifyUpdate(node)
	}
}

//export mlgoConflict
func mlgoConflict(h C.uintptr_t, existing, other *C.ml_member_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "ConflictDelegate.NotifyConflict")
	cb.conf.Conflict.NotifyConflict(nodeFromC(existing, false), nodeFromC(other, false))
}

//export mlgoMerge
func mlgoMerge(h C.uintptr_t, peers *C.ml_members_t, errbuf *C.char, errbufSize C.size_t) (refuse C.int) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverAnswer(cb, "MergeDelegate.NotifyMerge", "merge refused", func(r any) {
		writeCString(errbuf, errbufSize, fmt.Sprintf("panic in MergeDelegate.NotifyMerge: %v", r))
		refuse = 1
	})
	if err := cb.conf.Merge.NotifyMerge(nodesFromC(peers, true)); err != nil {
		writeCString(errbuf, errbufSize, err.Error())
		return 1
	}
	return 0
}

//export mlgoAlive
func mlgoAlive(h C.uintptr_t, peer *C.ml_member_t) (ignore C.int) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverAnswer(cb, "AliveDelegate.NotifyAlive", "alive ignored", func(any) { ignore = 1 })
	if err := cb.conf.Alive.NotifyAlive(nodeFromC(peer, false)); err != nil {
		return 1
	}
	return 0
}

//export mlgoNodeSelection
func mlgoNodeSelection(h C.uintptr_t, cands *C.ml_members_t, selected *C.uint8_t) (preferred C.int64_t) {
	cb := stateOf(h)
	defer cb.release()
	n := int(C.ml_members_count(cands))
	var sel []byte
	if n > 0 {
		sel = unsafe.Slice((*byte)(unsafe.Pointer(selected)), n)
	}
	defer recoverAnswer(cb, "NodeSelectionDelegate.SelectNodes", "every node selected, none preferred", func(any) {
		for i := range sel {
			sel[i] = 1
		}
		preferred = -1
	})
	// One allocation for all candidates: a returned pointer maps back to its index by its
	// offset in the array, without a map.
	backing := make([]NodeState, n)
	states := make([]*NodeState, n)
	for i := 0; i < n; i++ {
		mm := C.ml_members_get(cands, C.size_t(i))
		if node := nodeFromC(mm, true); node != nil {
			backing[i] = NodeState{Node: *node, Incarnation: uint32(C.ml_member_incarnation(mm)), State: node.State}
		}
		states[i] = &backing[i]
	}
	var byName map[string]int
	indexOf := func(p *NodeState) int {
		if n == 0 || p == nil {
			return -1
		}
		base := uintptr(unsafe.Pointer(&backing[0]))
		size := unsafe.Sizeof(backing[0])
		if off := uintptr(unsafe.Pointer(p)) - base; uintptr(unsafe.Pointer(p)) >= base && off < uintptr(n)*size && off%size == 0 {
			return int(off / size)
		}
		if byName == nil {
			byName = make(map[string]int, n)
			for i := range backing {
				byName[backing[i].Name] = i
			}
		}
		if i, ok := byName[p.Name]; ok {
			return i
		}
		cb.logger.Printf("[WARN] memberlist: NodeSelectionDelegate returned node %q, which is not a candidate; ignored", p.Name)
		return -1
	}
	chosen, pref := cb.conf.NodeSelection.SelectNodes(states)
	for _, p := range chosen {
		if i := indexOf(p); i >= 0 {
			sel[i] = 1
		}
	}
	return C.int64_t(indexOf(pref))
}

//export mlgoDisableTcpPings
func mlgoDisableTcpPings(h C.uintptr_t, node *C.char) (disable C.int) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverAnswer(cb, "Config.DisableTcpPingsForNode", "TCP ping allowed", func(any) { disable = 0 })
	if cb.conf.DisableTcpPingsForNode(C.GoString(node)) {
		return 1
	}
	return 0
}

//export mlgoAckPayload
func mlgoAckPayload(h C.uintptr_t, buf *C.uint8_t, limit C.size_t) (n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "PingDelegate.AckPayload")
	payload := cb.conf.Ping.AckPayload()
	if len(payload) > int(limit) {
		cb.logger.Printf("[WARN] memberlist: ack payload of %d bytes truncated to %d", len(payload), int(limit))
		payload = payload[:int(limit)]
	}
	if len(payload) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(limit)), payload)
	}
	return C.size_t(len(payload))
}

//export mlgoPingComplete
func mlgoPingComplete(h C.uintptr_t, other *C.ml_member_t, rttNs C.int64_t, payload *C.uint8_t, n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "PingDelegate.NotifyPingComplete")
	p := goBytes(payload, n)
	if p == nil {
		p = []byte{}
	}
	cb.conf.Ping.NotifyPingComplete(nodeFromC(other, false), time.Duration(rttNs), p)
}

//export mlgoSendPacket
func mlgoSendPacket(h C.uintptr_t, addr, name *C.char, data *C.uint8_t, n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Transport.WriteToAddress")
	cb.transport.sendPacket(Address{Addr: C.GoString(addr), Name: C.GoString(name)}, goBytes(data, n))
}

//export mlgoOpenStream
func mlgoOpenStream(h C.uintptr_t, id C.uint64_t, addr, name *C.char, timeoutMs C.int64_t, data *C.uint8_t, n C.size_t, expectReply C.int) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Transport.DialAddressTimeout")
	cb.transport.openStream(uint64(id), Address{Addr: C.GoString(addr), Name: C.GoString(name)},
		time.Duration(timeoutMs)*time.Millisecond, goBytes(data, n), expectReply != 0)
}

//export mlgoReplyStream
func mlgoReplyStream(h C.uintptr_t, id C.uint64_t, data *C.uint8_t, n C.size_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "stream reply")
	cb.transport.replyStream(uint64(id), goBytes(data, n))
}

//export mlgoCloseStream
func mlgoCloseStream(h C.uintptr_t, id C.uint64_t) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "stream close")
	cb.transport.closeStream(uint64(id))
}

//export mlgoLog
func mlgoLog(h C.uintptr_t, level C.int, msg *C.char) {
	cb := stateOf(h)
	defer cb.release()
	defer recoverCallback(cb, "Logger")
	cb.logger.Print(formatLogLine(int(level), C.GoString(msg)))
}

// formatLogLine gives a C log message memberlist's shape: "[LEVEL] memberlist: text".
func formatLogLine(level int, msg string) string {
	lvl := "DEBUG"
	switch level {
	case int(C.ML_LOG_INFO):
		lvl = "INFO"
	case int(C.ML_LOG_WARN):
		lvl = "WARN"
	case int(C.ML_LOG_ERROR):
		lvl = "ERR"
	}
	if len(msg) >= len("memberlist: ") && msg[:len("memberlist: ")] == "memberlist: " {
		return "[" + lvl + "] " + msg
	}
	return "[" + lvl + "] memberlist: " + msg
}

func writeCString(buf *C.char, size C.size_t, s string) {
	if buf == nil || size == 0 {
		return
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(size))
	n := copy(dst[:len(dst)-1], s)
	dst[n] = 0
}

// eventForwarder delivers a ChannelEventDelegate's events. An event goes straight into the
// channel when it has room and nothing is queued; otherwise it is queued, in order, for a
// goroutine that sends it. Like memberlist, a consumer that falls behind eventually holds the
// node up: past maxQueuedEvents the callback waits for room. Shutdown first releases such a wait
// (stopBlocking: later events beyond the bound are dropped) and, once the node has stopped,
// drops whatever is still queued (close), so it never waits for a reader.
type eventForwarder struct {
	ch        chan<- NodeEvent
	done      chan struct{} // closed by close
	unblock   chan struct{} // closed by stopBlocking
	space     chan struct{} // a dequeue happened
	mu        sync.Mutex
	queue     []NodeEvent
	running   bool
	closed    bool
	unblocked bool
}

const maxQueuedEvents = 1024

func newEventForwarder(ch chan<- NodeEvent) *eventForwarder {
	return &eventForwarder{ch: ch, done: make(chan struct{}), unblock: make(chan struct{}), space: make(chan struct{}, 1)}
}

func (f *eventForwarder) push(ev NodeEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.closed && len(f.queue) >= maxQueuedEvents {
		if f.unblocked {
			return // shutting down: drop rather than wait
		}
		f.mu.Unlock()
		select {
		case <-f.space:
		case <-f.unblock:
		case <-f.done:
		}
		f.mu.Lock()
	}
	if f.closed {
		return
	}
	if !f.running && len(f.queue) == 0 {
		select {
		case f.ch <- ev:
			return
		default:
		}
	}
	f.queue = append(f.queue, ev)
	if !f.running {
		f.running = true
		go f.run()
	}
}

func (f *eventForwarder) run() {
	for {
		f.mu.Lock()
		if f.closed || len(f.queue) == 0 {
			f.running = false
			f.queue = nil
			f.mu.Unlock()
			return
		}
		ev := f.queue[0]
		f.queue = f.queue[1:]
		f.mu.Unlock()
		select {
		case f.space <- struct{}{}:
		default:
		}
		select {
		case f.ch <- ev:
		case <-f.done:
		}
	}
}

func (f *eventForwarder) stopBlocking() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.unblocked {
		f.unblocked = true
		close(f.unblock)
	}
}

func (f *eventForwarder) close() {
	f.stopBlocking()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}
