// Package live feeds vectors into a real memberlist node over memnet and checks the
// node's reaction: an alive for a new node makes it a member, a ping addressed to the
// node is answered with an ack carrying the same SeqNo, a TCP ping is answered with an
// ack on the stream, a push/pull is answered with the node's own push/pull and merged,
// a user message reaches the delegate.
package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/libmemberlist/interop/vectest"
	"github.com/libmemberlist/interop/vectest/cluster"
	"github.com/libmemberlist/interop/vectest/memnet"
)

const defaultName = "live-receiver"

// Wait bounds every wait for the node's reaction.
var Wait = 5 * time.Second

var (
	receiverIP = net.IPv4(10, 99, 0, 1).To4()
	senderIP   = net.IPv4(10, 99, 0, 2).To4()
	ownVsn     = []byte{1, 5, 2, 0, 0, 0}
)

// Plan is what a vector is expected to do to a fresh node.
type Plan struct {
	Vector   vectest.Vector
	Receiver string   // node name to give the receiver
	Members  []string // names that must become members
	AckSeqs  []uint32 // UDP pings that must be answered (ack SeqNo)
	Stream   *vectest.Stream
}

// Candidates selects the vectors that can be checked live, with their expectations.
func Candidates(c vectest.Codec, vecs []vectest.Vector) []Plan {
	var out []Plan
	for _, v := range vecs {
		if v.Params.Error || (v.Params.HasLabel && !c.SupportsLabels()) {
			continue
		}
		switch v.Kind {
		case vectest.KindPacket:
			pk, err := vectest.DecodePacket(c, v.Data, v.Params)
			if err != nil {
				continue
			}
			if p, ok := packetPlan(v, pk.Root.Leaves()); ok {
				out = append(out, p)
			}
		case vectest.KindStream:
			s, err := vectest.DecodeStream(c, v.Data, v.Params)
			if err != nil {
				continue
			}
			if p, ok := streamPlan(c, v, s); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

func validVsn(v []byte) bool { return len(v) == 6 && v[0] != 0 && v[1] != 0 && v[0] <= v[1] }

func packetPlan(v vectest.Vector, leaves []any) (Plan, bool) {
	p := Plan{Vector: v, Receiver: defaultName}
	for _, l := range leaves {
		if pg, ok := l.(*vectest.Ping); ok && pg.Node != "" {
			p.Receiver = pg.Node
			break
		}
	}
	gone := map[string]bool{p.Receiver: true, "": true}
	for _, l := range leaves {
		if d, ok := l.(*vectest.Dead); ok {
			gone[d.Node] = true
		}
	}
	seen := map[string]bool{}
	for _, l := range leaves {
		switch m := l.(type) {
		case *vectest.Alive:
			if m.Incarnation >= 1 && validVsn(m.Vsn) && !gone[m.Node] && !seen[m.Node] {
				seen[m.Node] = true
				p.Members = append(p.Members, m.Node)
			}
		case *vectest.Ping:
			if m.Node == "" || m.Node == p.Receiver {
				p.AckSeqs = append(p.AckSeqs, m.SeqNo)
			}
		}
	}
	return p, len(p.Members) > 0 || len(p.AckSeqs) > 0
}

func streamPlan(c vectest.Codec, v vectest.Vector, s *vectest.Stream) (Plan, bool) {
	p := Plan{Vector: v, Receiver: defaultName, Stream: s}
	switch s.Type {
	case vectest.UserMsg:
		return p, len(s.Msg.(*vectest.User).Msg) > 0
	case vectest.PingMsg:
		if n := s.Msg.(*vectest.Ping).Node; n != "" {
			p.Receiver = n
		}
		return p, true
	case vectest.PushPullMsg:
		// memberlist merges only if verifyProtocol passes; expect membership only then.
		if verifyProtocol(s.Nodes) {
			for _, n := range s.Nodes {
				if n.State == 0 && n.Incarnation >= 1 && n.Name != p.Receiver {
					p.Members = append(p.Members, n.Name)
				}
			}
		}
		return p, true
	}
	return p, false
}

// verifyProtocol mirrors memberlist's check for a receiver speaking the default
// versions: the protocol/delegate ranges of all alive entries (and the receiver) must
// contain every entry's current versions.
func verifyProtocol(nodes []*vectest.PushNodeState) bool {
	vsns := [][]byte{ownVsn}
	all := [][]byte{ownVsn}
	for _, n := range nodes {
		if len(n.Vsn) < 6 {
			return false
		}
		if n.State == 0 {
			vsns = append(vsns, n.Vsn)
		}
		all = append(all, n.Vsn)
	}
	maxPMin, minPMax, maxDMin, minDMax := byte(0), byte(255), byte(0), byte(255)
	for _, v := range vsns {
		maxPMin, minPMax = max(maxPMin, v[0]), min(minPMax, v[1])
		maxDMin, minDMax = max(maxDMin, v[3]), min(minDMax, v[4])
	}
	for _, v := range all {
		if v[2] < maxPMin || v[2] > minPMax || v[5] < maxDMin || v[5] > minDMax {
			return false
		}
	}
	return true
}

// Run executes one plan against a fresh node made by factory. It returns nil when the
// node reacted as expected.
func Run(c vectest.Codec, factory cluster.Factory, p Plan) (err error) {
	nw := memnet.New(10000)
	cfg := cluster.NodeConfig{Name: p.Receiver, IP: receiverIP, Keys: p.Vector.Params.Keys, Label: p.Vector.Params.LabelString(),
		NoVerifyIncoming: !p.Vector.Params.VerifyIncoming}
	node, err := factory(nw, cfg)
	if err != nil {
		return fmt.Errorf("start receiver: %w", err)
	}
	defer func() {
		if e := node.Shutdown(); e != nil && err == nil {
			err = e
		}
	}()
	sender, err := nw.NewEndpoint(senderIP, cluster.Port, nil, func([]byte, net.Addr, time.Time) bool { return true })
	if err != nil {
		return err
	}
	defer sender.Shutdown()

	if p.Vector.Kind == vectest.KindPacket {
		if _, err := sender.WriteTo(p.Vector.Data, node.Addr()); err != nil {
			return err
		}
		for _, seq := range p.AckSeqs {
			if err := waitAck(c, nw, node.Addr(), p.Vector.Params, seq); err != nil {
				return err
			}
		}
		return waitMembers(node, p.Members)
	}

	conn, err := sender.DialTimeout(node.Addr(), Wait)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(Wait)); err != nil {
		return err
	}
	if _, err := conn.Write(p.Vector.Data); err != nil {
		return fmt.Errorf("write stream: %w", err)
	}
	switch p.Stream.Type {
	case vectest.UserMsg:
		msg := p.Stream.Msg.(*vectest.User).Msg
		if err := cluster.WaitFor(Wait, func() bool { return node.Delegate().HasReceived(msg) }); err != nil {
			return fmt.Errorf("user message not delivered to the delegate: %w", err)
		}
		return nil
	case vectest.PingMsg:
		reply, err := io.ReadAll(conn)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read ack: %w", err)
		}
		rs, err := decodeReply(c, reply, p.Vector.Params)
		if err != nil {
			return fmt.Errorf("reply to TCP ping: %w", err)
		}
		ack, ok := rs.Msg.(*vectest.AckResp)
		if !ok || ack.SeqNo != p.Stream.Msg.(*vectest.Ping).SeqNo {
			return fmt.Errorf("reply to TCP ping is %s, want ackResp with SeqNo %d", rs.Dump(), p.Stream.Msg.(*vectest.Ping).SeqNo)
		}
		return nil
	case vectest.PushPullMsg:
		reply, err := io.ReadAll(conn)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read push/pull reply: %w", err)
		}
		rs, err := decodeReply(c, reply, p.Vector.Params)
		if err != nil {
			return fmt.Errorf("push/pull reply: %w", err)
		}
		if rs.Type != vectest.PushPullMsg || rs.Header.Join != p.Stream.Header.Join || !hasNode(rs.Nodes, p.Receiver) {
			return fmt.Errorf("push/pull reply is %s", rs.Dump())
		}
		return waitMembers(node, p.Members)
	}
	return nil
}

// decodeReply decodes what a node wrote back on a stream. Replies carry no label header,
// but the label is still GCM additional data, so the label is prepended for decoding.
func decodeReply(c vectest.Codec, reply []byte, p vectest.Params) (*vectest.Stream, error) {
	if p.HasLabel && len(p.Label) > 0 {
		reply = append(append([]byte{vectest.HasLabelMsg, byte(len(p.Label))}, p.Label...), reply...)
	}
	return vectest.DecodeStream(c, reply, p)
}

func hasNode(ns []*vectest.PushNodeState, name string) bool {
	for _, n := range ns {
		if n.Name == name {
			return true
		}
	}
	return false
}

func waitAck(c vectest.Codec, nw *memnet.Network, from string, p vectest.Params, seq uint32) error {
	err := cluster.WaitFor(Wait, func() bool {
		for _, rec := range nw.Packets() {
			if rec.From != from {
				continue
			}
			pk, err := vectest.DecodePacket(c, rec.Data, p)
			if err != nil {
				continue
			}
			for _, l := range pk.Root.Leaves() {
				if a, ok := l.(*vectest.AckResp); ok && a.SeqNo == seq {
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("no ack with SeqNo %d from the node: %w", seq, err)
	}
	return nil
}

func waitMembers(n cluster.Node, names []string) error {
	for _, name := range names {
		if err := cluster.WaitFor(Wait, func() bool { return cluster.Has(n, name) }); err != nil {
			return fmt.Errorf("%q did not become a member (members: %v): %w", clip(name), n.Members(), err)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
