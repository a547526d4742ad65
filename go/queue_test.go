package memberlist

import (
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
)

// plainBroadcast invalidates any queued plain broadcast with the same key.
type plainBroadcast struct {
	key, msg string
	finished *atomic.Int32
}

func (b *plainBroadcast) Invalidates(o Broadcast) bool {
	ob, ok := o.(*plainBroadcast)
	return ok && ob.key == b.key
}
func (b *plainBroadcast) Message() []byte { return []byte(b.msg) }
func (b *plainBroadcast) Finished() {
	if b.finished != nil {
		b.finished.Add(1)
	}
}

type namedBroadcast struct{ plainBroadcast }

func (b *namedBroadcast) Name() string { return b.key }

type uniqueBroadcast struct{ plainBroadcast }

func (b *uniqueBroadcast) UniqueBroadcast() {}

func msgs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func TestTransmitLimitedQueue_ZeroValue(t *testing.T) {
	var q TransmitLimitedQueue
	if q.NumQueued() != 0 || q.GetBroadcasts(2, 100) != nil {
		t.Fatal("the zero queue is empty")
	}
	q.Prune(0)
	q.Reset()
	q.RetransmitMult = 1
	q.QueueBroadcast(&plainBroadcast{key: "a", msg: "a"})
	if got := msgs(q.GetBroadcasts(2, 100)); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("got %v", got)
	}
}

func TestTransmitLimitedQueue_Invalidation(t *testing.T) {
	var fin atomic.Int32
	q := &TransmitLimitedQueue{RetransmitMult: 1, NumNodes: func() int { return 1 }}
	q.QueueBroadcast(&plainBroadcast{key: "test", msg: "1", finished: &fin})
	q.QueueBroadcast(&plainBroadcast{key: "foo", msg: "2", finished: &fin})
	q.QueueBroadcast(&plainBroadcast{key: "test", msg: "3", finished: &fin})
	if q.NumQueued() != 2 || fin.Load() != 1 {
		t.Fatalf("queued %d, finished %d", q.NumQueued(), fin.Load())
	}
	// Named: replaced by name only.
	q.QueueBroadcast(&namedBroadcast{plainBroadcast{key: "n", msg: "4", finished: &fin}})
	q.QueueBroadcast(&namedBroadcast{plainBroadcast{key: "n", msg: "5", finished: &fin}})
	// A plain "n" does not invalidate the named one.
	q.QueueBroadcast(&plainBroadcast{key: "n", msg: "6", finished: &fin})
	// Unique: never deduplicated.
	q.QueueBroadcast(&uniqueBroadcast{plainBroadcast{key: "u", msg: "7", finished: &fin}})
	q.QueueBroadcast(&uniqueBroadcast{plainBroadcast{key: "u", msg: "8", finished: &fin}})
	if q.NumQueued() != 6 || fin.Load() != 2 {
		t.Fatalf("queued %d, finished %d", q.NumQueued(), fin.Load())
	}
	got := msgs(q.GetBroadcasts(0, 1000))
	// Same tier, same length: newest first.
	if want := []string{"8", "7", "6", "5", "3", "2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if q.NumQueued() != 0 || fin.Load() != 8 {
		t.Fatalf("after one transmit with limit 1: queued %d, finished %d", q.NumQueued(), fin.Load())
	}
}

func TestTransmitLimitedQueue_Order(t *testing.T) {
	q := &TransmitLimitedQueue{RetransmitMult: 3, NumNodes: func() int { return 10 }} // limit 3*2 = 6
	q.queueBroadcast(&uniqueBroadcast{plainBroadcast{msg: "tier2"}}, 2)
	q.QueueBroadcast(&uniqueBroadcast{plainBroadcast{msg: "short"}})
	q.QueueBroadcast(&uniqueBroadcast{plainBroadcast{msg: "a longer one"}})
	q.queueBroadcast(&uniqueBroadcast{plainBroadcast{msg: "tier1"}}, 1)
	got := msgs(q.GetBroadcasts(0, 1000))
	if want := []string{"a longer one", "short", "tier1", "tier2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// Only what fits: limit 10 with overhead 2 takes "short" (5+2) and nothing else fits after.
	got = msgs(q.GetBroadcasts(2, 10))
	if want := []string{"short"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if q.GetBroadcasts(2, 3) != nil {
		t.Fatal("nothing fits in 3 bytes")
	}
}

func TestTransmitLimitedQueue_RetransmitLimit(t *testing.T) {
	for _, tc := range []struct{ mult, nodes, want int }{
		{3, 0, 0}, {3, 1, 3}, {3, 9, 3}, {3, 10, 6}, {3, 99, 6}, {3, 100, 9}, {4, 1000, 16},
	} {
		if got := retransmitLimit(tc.mult, tc.nodes); got != tc.want {
			t.Fatalf("retransmitLimit(%d, %d) = %d, want %d", tc.mult, tc.nodes, got, tc.want)
		}
	}
	var fin atomic.Int32
	q := &TransmitLimitedQueue{RetransmitMult: 1, NumNodes: func() int { return 10 }} // limit 2
	q.QueueBroadcast(&plainBroadcast{key: "x", msg: "x", finished: &fin})
	for i := 0; i < 2; i++ {
		if got := q.GetBroadcasts(0, 100); len(got) != 1 {
			t.Fatalf("round %d: %v", i, msgs(got))
		}
	}
	if q.NumQueued() != 0 || fin.Load() != 1 || q.GetBroadcasts(0, 100) != nil {
		t.Fatalf("after the limit: queued %d finished %d", q.NumQueued(), fin.Load())
	}
}

func TestTransmitLimitedQueue_PruneReset(t *testing.T) {
	var fin atomic.Int32
	q := &TransmitLimitedQueue{RetransmitMult: 1, NumNodes: func() int { return 1 }}
	for i := 0; i < 10; i++ {
		q.QueueBroadcast(&uniqueBroadcast{plainBroadcast{msg: strconv.Itoa(i), finished: &fin}})
	}
	q.Prune(4)
	if q.NumQueued() != 4 || fin.Load() != 6 {
		t.Fatalf("queued %d finished %d", q.NumQueued(), fin.Load())
	}
	// The newest are kept.
	if got := msgs(q.GetBroadcasts(0, 100)); !reflect.DeepEqual(got, []string{"9", "8", "7", "6"}) {
		t.Fatalf("kept %v", got)
	}
	for i := 0; i < 3; i++ {
		q.QueueBroadcast(&namedBroadcast{plainBroadcast{key: strconv.Itoa(i), msg: "m", finished: &fin}})
	}
	q.Reset()
	if q.NumQueued() != 0 || fin.Load() != 13 {
		t.Fatalf("after Reset: queued %d finished %d", q.NumQueued(), fin.Load())
	}
	// Names are forgotten: queuing the same name again does not finish anything.
	q.QueueBroadcast(&namedBroadcast{plainBroadcast{key: "0", msg: "m", finished: &fin}})
	if fin.Load() != 13 || q.NumQueued() != 1 {
		t.Fatal("Reset must clear the names")
	}
}

func TestTransmitLimitedQueue_LimitAcrossRounds(t *testing.T) {
	q := &TransmitLimitedQueue{RetransmitMult: 1, NumNodes: func() int { return 10 }} // each sent twice
	for i, name := range []string{"test", "foo", "bar", "baz"} {
		q.QueueBroadcast(&namedBroadcast{plainBroadcast{key: name, msg: strconv.Itoa(i+1) + ". this is a test."}}) // 18 bytes
	}
	if q.idGen != 4 {
		t.Fatalf("idGen %d after 4 broadcasts", q.idGen)
	}
	// 3 bytes of overhead each: 3 messages fit in 80 bytes, 2 sends per message, 8 sends in all.
	for round, want := range []int{3, 3, 2, 0} {
		if got := q.GetBroadcasts(3, 80); len(got) != want {
			t.Fatalf("round %d: %d messages (%v), want %d", round, len(got), msgs(got), want)
		}
	}
	if q.idGen != 0 || q.NumQueued() != 0 {
		t.Fatalf("an emptied queue restarts its ids: idGen %d, queued %d", q.idGen, q.NumQueued())
	}
}

func TestTransmitLimitedQueue_TierOrder(t *testing.T) {
	q := &TransmitLimitedQueue{RetransmitMult: 1, NumNodes: func() int { return 10 }}
	for _, tr := range []int{0, 10, 3, 4, 7} {
		q.queueBroadcast(&namedBroadcast{plainBroadcast{key: strconv.Itoa(tr), msg: "m"}}, tr)
	}
	var got []int
	for _, qb := range q.sortedLocked() {
		got = append(got, qb.transmits)
	}
	if want := []int{0, 3, 4, 7, 10}; !reflect.DeepEqual(got, want) {
		t.Fatalf("queue order by transmits %v, want %v", got, want)
	}
}
