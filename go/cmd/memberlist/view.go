package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/hashicorp/memberlist"
)

// View is what an agent serves on GET /v1/members.
type View struct {
	Self     string   `json:"self"`
	Health   int      `json:"health_score"`
	Protocol uint8    `json:"protocol_version"`
	Members  []Member `json:"members"`
}

// Member is one node in a View.
type Member struct {
	Name     string   `json:"name"`
	Addr     string   `json:"addr"` // host:port
	Meta     string   `json:"meta"`
	Protocol [3]uint8 `json:"protocol"` // min, max, current
	Delegate [3]uint8 `json:"delegate"` // min, max, current
	Self     bool     `json:"self,omitempty"`
}

func viewOf(m *memberlist.Memberlist) View {
	self := m.LocalNode()
	v := View{Self: self.Name, Health: m.GetHealthScore(), Protocol: m.ProtocolVersion()}
	for _, n := range m.Members() {
		v.Members = append(v.Members, Member{
			Name:     n.Name,
			Addr:     n.Address(),
			Meta:     string(n.Meta),
			Protocol: [3]uint8{n.PMin, n.PMax, n.PCur},
			Delegate: [3]uint8{n.DMin, n.DMax, n.DCur},
			Self:     n.Name == self.Name,
		})
	}
	sort.Slice(v.Members, func(i, j int) bool { return v.Members[i].Name < v.Members[j].Name })
	return v
}

func newKey(size int) (string, error) {
	switch size {
	case 16, 24, 32:
	default:
		return "", fmt.Errorf("key size must be 16, 24 or 32 bytes, not %d", size)
	}
	k := make([]byte, size)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k), nil
}
