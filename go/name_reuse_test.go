package memberlist

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
)

// reuseEvents records join and leave events about one name, with the port they carried.
type reuseEvents struct {
	name string
	mu   sync.Mutex
	seen []string // "join 7946", "leave 7946"
}

func (e *reuseEvents) record(what string, n *Node) {
	if n.Name != e.name {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, what+" "+strconv.Itoa(int(n.Port)))
}
func (e *reuseEvents) NotifyJoin(n *Node)   { e.record("join", n) }
func (e *reuseEvents) NotifyLeave(n *Node)  { e.record("leave", n) }
func (e *reuseEvents) NotifyUpdate(n *Node) { e.record("update", n) }
func (e *reuseEvents) events() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// countingConflict counts NotifyConflict calls.
type countingConflict struct {
	mu sync.Mutex
	n  int
}

func (c *countingConflict) NotifyConflict(existing, other *Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}
func (c *countingConflict) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// holdsAt reports whether m has name alive at port.
func holdsAt(m *Memberlist, name string, port uint16) (bool, string) {
	for _, n := range m.Members() {
		if n.Name == name {
			return n.Port == port && n.State == StateAlive, fmt.Sprintf("%s at %s:%d state %d", name, n.Addr, n.Port, n.State)
		}
	}
	return false, name + " not a member"
}

// reuseCluster starts three nodes (the first two with events and conflicts recorded), kills
// the third without a leave and restarts it at once under its name on a new port (same IP), so
// the first two still hold it alive at its old port. It returns the first two, their recorders,
// the old port and the restarted node.
func reuseCluster(t *testing.T, reclaim bool) ([2]*Memberlist, [2]*reuseEvents, [2]*countingConflict, uint16, *Memberlist) {
	var ms [2]*Memberlist
	var evs [2]*reuseEvents
	var cfs [2]*countingConflict
	victim := testConfig(t)
	victim.ReclaimNameOnNewAddress = reclaim
	for i := range ms {
		c := testConfig(t)
		c.ReclaimNameOnNewAddress = reclaim
		evs[i] = &reuseEvents{name: victim.Name}
		cfs[i] = &countingConflict{}
		c.Events, c.Conflict = evs[i], cfs[i]
		if i == 0 {
			ms[i] = create(t, c)
		} else {
			ms[i] = joinPeer(t, ms[0], c)
		}
	}
	old := joinPeer(t, ms[0], victim)
	for _, m := range ms {
		waitForMembers(t, m, 3)
	}
	oldPort := old.LocalNode().Port
	if err := old.Shutdown(); err != nil { // no Leave: a crash, as far as the others can tell
		t.Fatal(err)
	}

	again := testConfig(t)
	again.Name, again.BindAddr, again.BindPort = victim.Name, victim.BindAddr, 0
	again.ReclaimNameOnNewAddress = reclaim
	back := create(t, again)
	if back.LocalNode().Port == oldPort {
		t.Fatalf("the restarted node got its old port %d again", oldPort)
	}
	seed := ms[0].config.Name + "/" + net.JoinHostPort(ms[0].config.BindAddr, strconv.Itoa(ms[0].config.BindPort))
	if _, err := back.Join([]string{seed}); err != nil {
		t.Fatalf("Join(%s): %v", seed, err)
	}
	return ms, evs, cfs, oldPort, back
}

// diffReclaimNameOnNewAddress (a difference of doc.go, run by TestDifferences): with
// Config.ReclaimNameOnNewAddress a node restarted under its name on a new port is taken at the
// new port by nodes that still held it alive at the old one (their ping there goes unanswered),
// with NotifyLeave for the old incarnation and NotifyJoin for the new, and no conflict.
func diffReclaimNameOnNewAddress(t *testing.T) {
	ms, evs, cfs, oldPort, back := reuseCluster(t, true)
	newPort := back.LocalNode().Port
	for i, m := range ms {
		waitFor(t, fmt.Sprintf("node %d holds the name at the new port %d", i, newPort), func() (bool, string) {
			return holdsAt(m, back.config.Name, newPort)
		})
		if n := m.NumMembers(); n != 3 {
			t.Errorf("node %d: %d members, want 3", i, n)
		}
		// Events are delivered after the state changed (their own queue): wait for them too.
		want := fmt.Sprint([]string{"join " + strconv.Itoa(int(oldPort)), "leave " + strconv.Itoa(int(oldPort)),
			"join " + strconv.Itoa(int(newPort))})
		ev := evs[i]
		waitFor(t, fmt.Sprintf("node %d: events %s", i, want), func() (bool, string) {
			got := fmt.Sprint(ev.events())
			return got == want, got
		})
		if n := cfs[i].count(); n != 0 {
			t.Errorf("node %d: %d conflicts reported", i, n)
		}
	}
}

// Without the option (memberlist's behaviour) the same restart is a conflict: the first node
// reports it and keeps the old port.
func TestReclaimNameOnNewAddress_offIsAConflict(t *testing.T) {
	ms, _, cfs, oldPort, back := reuseCluster(t, false)
	waitFor(t, "NotifyConflict on the first node", func() (bool, string) {
		return cfs[0].count() > 0, "not called"
	})
	for _, n := range ms[0].Members() {
		if n.Name == back.config.Name && n.Port != oldPort {
			t.Fatalf("the name moved to port %d without the option", n.Port)
		}
	}
}
