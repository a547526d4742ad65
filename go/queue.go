//go:build cgo

package memberlist

import (
	"math"
	"sort"
	"sync"
)

// Broadcast is a message gossiped through a TransmitLimitedQueue.
type Broadcast interface {
	// Invalidates reports whether queuing this broadcast makes b obsolete.
	Invalidates(b Broadcast) bool
	// Message returns the bytes to send.
	Message() []byte
	// Finished is called once the broadcast will not be sent again (invalidated, pruned, reset,
	// or sent its transmit limit).
	Finished()
}

// NamedBroadcast is a Broadcast with a unique name: queuing one replaces a queued broadcast of
// the same name (Invalidates is not consulted).
type NamedBroadcast interface {
	Broadcast
	Name() string
}

// UniqueBroadcast marks a Broadcast that never invalidates another (the queue is not scanned).
type UniqueBroadcast interface {
	Broadcast
	UniqueBroadcast()
}

// TransmitLimitedQueue queues broadcasts and hands them out for piggybacking, each at most
// RetransmitMult * ceil(log10(NumNodes()+1)) times, fewest-sent first, then largest, then
// newest. The zero value is usable; set NumNodes before calling GetBroadcasts (nil counts as
// one node). Safe for concurrent use. Finished is called with the queue locked, so it must not
// call back into the queue.
type TransmitLimitedQueue struct {
	// NumNodes returns the cluster size, which scales the retransmit limit.
	NumNodes func() int
	// RetransmitMult multiplies the retransmit limit.
	RetransmitMult int

	mu    sync.Mutex
	items []*queuedBroadcast
	names map[string]*queuedBroadcast
	idGen int64
}

type queuedBroadcast struct {
	transmits int
	msgLen    int
	id        int64
	b         Broadcast
	name      string
}

// before is the queue's order: fewer transmits, then longer message, then newer.
func (a *queuedBroadcast) before(b *queuedBroadcast) bool {
	if a.transmits != b.transmits {
		return a.transmits < b.transmits
	}
	if a.msgLen != b.msgLen {
		return a.msgLen > b.msgLen
	}
	return a.id > b.id
}

func retransmitLimit(retransmitMult, n int) int {
	return retransmitMult * int(math.Ceil(math.Log10(float64(n+1))))
}

// QueueBroadcast queues b, first dropping (and finishing) the broadcasts it replaces.
func (q *TransmitLimitedQueue) QueueBroadcast(b Broadcast) {
	q.queueBroadcast(b, 0)
}

func (q *TransmitLimitedQueue) queueBroadcast(b Broadcast, initialTransmits int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.names == nil {
		q.names = make(map[string]*queuedBroadcast)
	}
	if q.idGen == math.MaxInt64 {
		q.idGen = 1
	} else {
		q.idGen++
	}
	qb := &queuedBroadcast{transmits: initialTransmits, msgLen: len(b.Message()), id: q.idGen, b: b}
	unique := false
	if nb, ok := b.(NamedBroadcast); ok {
		qb.name = nb.Name()
	} else if _, ok := b.(UniqueBroadcast); ok {
		unique = true
	}
	switch {
	case qb.name != "":
		if old, ok := q.names[qb.name]; ok {
			old.b.Finished()
			q.removeLocked(old)
		}
	case !unique:
		kept := q.items[:0]
		for _, cur := range q.items {
			special := false
			switch cur.b.(type) {
			case NamedBroadcast, UniqueBroadcast:
				special = true // only invalidated by name, or never
			}
			if !special && b.Invalidates(cur.b) {
				cur.b.Finished()
				continue
			}
			kept = append(kept, cur)
		}
		for i := len(kept); i < len(q.items); i++ {
			q.items[i] = nil
		}
		q.items = kept
	}
	q.items = append(q.items, qb)
	if qb.name != "" {
		q.names[qb.name] = qb
	}
}

func (q *TransmitLimitedQueue) removeLocked(qb *queuedBroadcast) {
	for i, cur := range q.items {
		if cur == qb {
			q.items = append(q.items[:i], q.items[i+1:]...)
			break
		}
	}
	if qb.name != "" && q.names[qb.name] == qb {
		delete(q.names, qb.name)
	}
	if len(q.items) == 0 {
		q.idGen = 0
	}
}

// GetBroadcasts returns queued messages that fit in limit bytes, counting overhead bytes for
// each, and counts one transmission for each returned message.
func (q *TransmitLimitedQueue) GetBroadcasts(overhead, limit int) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	n := 1
	if q.NumNodes != nil {
		n = q.NumNodes()
	}
	transmitLimit := retransmitLimit(q.RetransmitMult, n)

	var toSend [][]byte
	picked := make(map[*queuedBroadcast]bool)
	used := 0
	for {
		free := limit - used - overhead
		if free <= 0 {
			break
		}
		var best *queuedBroadcast
		for _, cur := range q.items {
			if picked[cur] || cur.msgLen > free {
				continue
			}
			if best == nil || cur.before(best) {
				best = cur
			}
		}
		if best == nil {
			break
		}
		msg := best.b.Message()
		if len(msg) > free { // Message() changed size since it was queued: skip it this round
			picked[best] = true
			continue
		}
		used += overhead + len(msg)
		toSend = append(toSend, msg)
		picked[best] = true
		if best.transmits+1 >= transmitLimit {
			best.b.Finished()
			q.removeLocked(best)
		} else {
			best.transmits++
		}
	}
	return toSend
}

// NumQueued returns the number of queued broadcasts.
func (q *TransmitLimitedQueue) NumQueued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Reset drops (and finishes) every queued broadcast.
func (q *TransmitLimitedQueue) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, cur := range q.sortedLocked() {
		cur.b.Finished()
	}
	q.items = nil
	q.names = nil
	q.idGen = 0
}

// Prune keeps the maxRetain broadcasts that would be sent first and drops (and finishes) the
// rest, bounding the queue.
func (q *TransmitLimitedQueue) Prune(maxRetain int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if maxRetain < 0 {
		maxRetain = 0
	}
	if len(q.items) <= maxRetain {
		return
	}
	sorted := q.sortedLocked()
	for i := len(sorted) - 1; i >= maxRetain; i-- {
		sorted[i].b.Finished()
		q.removeLocked(sorted[i])
	}
}

// sortedLocked returns the items in queue order.
func (q *TransmitLimitedQueue) sortedLocked() []*queuedBroadcast {
	out := append([]*queuedBroadcast(nil), q.items...)
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	return out
}
