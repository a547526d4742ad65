package memberlist

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// diffMetaMaxSize (a difference of doc.go, run by TestDifferences): Config.MetaMaxSize, 0 keeps
// the constant MetaMaxSize; a larger value is the limit NodeMeta is called with, metadata up to
// it travels between nodes that set it, and one byte more fails UpdateNode. Values no packet
// could carry fail Create, naming the field.
func diffMetaMaxSize(t *testing.T) {
	d0 := &mockDelegate{meta: bytes.Repeat([]byte{'a'}, 1000)}
	c0 := testConfig(t)
	c0.MetaMaxSize = 1200
	c0.Delegate = d0
	m0 := create(t, c0)
	d0.mu.Lock()
	limit := d0.metaLimit
	d0.mu.Unlock()
	if limit != 1200 {
		t.Fatalf("NodeMeta called with limit %d, want 1200", limit)
	}
	if got := len(m0.LocalNode().Meta); got != 1000 {
		t.Fatalf("local meta is %d bytes, want 1000", got)
	}

	d1 := &mockDelegate{meta: bytes.Repeat([]byte{'b'}, 1100)}
	c1 := testConfig(t)
	c1.MetaMaxSize = 1200
	c1.Delegate = d1
	m1 := joinPeer(t, m0, c1)
	metaOf := func(m *Memberlist, name string) []byte {
		for _, n := range m.Members() {
			if n.Name == name {
				return n.Meta
			}
		}
		return nil
	}
	waitFor(t, "metadata over 512 bytes both ways", func() (bool, string) {
		a, b := metaOf(m1, c0.Name), metaOf(m0, c1.Name)
		return len(a) == 1000 && len(b) == 1100, fmt.Sprintf("%d and %d bytes", len(a), len(b))
	})

	d0.setMeta(bytes.Repeat([]byte{'c'}, 1200))
	if err := m0.UpdateNode(5 * time.Second); err != nil {
		t.Fatalf("UpdateNode with 1200 bytes: %v", err)
	}
	waitFor(t, "the update", func() (bool, string) {
		got := metaOf(m1, c0.Name)
		return len(got) == 1200, fmt.Sprintf("%d bytes", len(got))
	})
	d0.setMeta(make([]byte, 1201))
	if err := m0.UpdateNode(time.Second); err == nil || err.Error() != "Node meta data provided is longer than the limit" {
		t.Fatalf("UpdateNode with 1201 bytes: %v", err)
	}

	// 0 is the constant: NodeMeta is asked for MetaMaxSize and 513 bytes fail Create.
	c := testConfig(t)
	c.Delegate = &metaDelegate{meta: make([]byte, MetaMaxSize+1)}
	if m, err := Create(c); err == nil {
		m.Shutdown()
		t.Fatal("Create with 513 bytes of metadata and MetaMaxSize 0 succeeded")
	}

	for _, bad := range []int{-1, 65536, 60000} {
		c := testConfig(t)
		c.MetaMaxSize = bad
		m, err := Create(c)
		if err == nil {
			m.Shutdown()
			t.Fatalf("Create with MetaMaxSize %d succeeded", bad)
		}
		if !strings.Contains(err.Error(), "MetaMaxSize") {
			t.Errorf("MetaMaxSize %d: the error does not name the field: %v", bad, err)
		}
	}
}
