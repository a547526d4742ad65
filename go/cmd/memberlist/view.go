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
	Members  []Member `json:"members"`            // alive and suspect, this node included
	Departed []Member `json:"departed,omitempty"` // left or dead, not joined again since
}

// Member is one node in a View.
type Member struct {
	Name     string   `json:"name"`
	Addr     string   `json:"addr"` // host:port
	Meta     string   `json:"meta"`
	Protocol [3]uint8 `json:"protocol"` // min, max, current
	Delegate [3]uint8 `json:"delegate"` // min, max, current
	State    string   `json:"state"`    // alive, suspect, dead or left
	Self     bool     `json:"self,omitempty"`
}

// stateNames are memberlist.NodeStateType's values as words.
var stateNames = map[memberlist.NodeStateType]string{
	memberlist.StateAlive: "alive", memberlist.StateSuspect: "suspect",
	memberlist.StateDead: "dead", memberlist.StateLeft: "left",
}

// withStates is libmemberlist's addition to the API (MembersWithState). hashicorp/memberlist
// has no way to ask for a member's state: built on it, every member shows alive and departed
// ones are not listed.
type withStates interface {
	MembersWithState() []*memberlist.Node
}

func viewOf(m *memberlist.Memberlist) View {
	self := m.LocalNode()
	v := View{Self: self.Name, Health: m.GetHealthScore(), Protocol: m.ProtocolVersion()}
	var nodes []*memberlist.Node
	if ws, ok := any(m).(withStates); ok {
		nodes = ws.MembersWithState()
	} else {
		nodes = m.Members()
	}
	for _, n := range nodes {
		state, ok := stateNames[n.State]
		if !ok {
			state = fmt.Sprintf("state-%d", int(n.State))
		}
		list := &v.Members
		if n.State == memberlist.StateDead || n.State == memberlist.StateLeft {
			list = &v.Departed
		}
		*list = append(*list, Member{
			Name:     n.Name,
			Addr:     n.Address(),
			Meta:     string(n.Meta),
			Protocol: [3]uint8{n.PMin, n.PMax, n.PCur},
			Delegate: [3]uint8{n.DMin, n.DMax, n.DCur},
			State:    state,
			Self:     n.Name == self.Name,
		})
	}
	sort.Slice(v.Members, func(i, j int) bool { return v.Members[i].Name < v.Members[j].Name })
	sort.Slice(v.Departed, func(i, j int) bool { return v.Departed[i].Name < v.Departed[j].Name })
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
