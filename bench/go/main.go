// wirego: benchmarks hashicorp/memberlist v0.7.0's own encode/decode path for the workloads
// of bench/wire/wire_bench.cpp and prints one TSV line per operation in the same format:
//
//	go <TAB> workload <TAB> op <TAB> ns/op <TAB> MB/s <TAB> bytes <TAB> iterations <TAB> allocs/op
//
// The single-message and compound workloads call memberlist's own unexported functions
// (encode, decode, makeCompoundMessage, decodeCompoundMessage) through //go:linkname (pull.go).
//
// Push/pull has no free function in memberlist: sendLocalState/readRemoteState are methods on
// *Memberlist bound to a net.Conn. pushPullEncode/pushPullDecode below replicate their encoding
// sequence statement for statement (memberlist@v0.7.0 net.go sendLocalState, readStream,
// readRemoteState) with memberlist's own codec (go-msgpack/v2 v2.1.5, a fresh
// codec.MsgpackHandle{}): type byte, header, N node states and the user state through one
// encoder into a bytes.Buffer; decoding through codec.NewDecoder on a bufio.Reader over the
// bytes. Left out: the per-node copy from m.nodes and the metrics gauges (not encoding), the
// connection I/O and the port fix-up loop.
//
// The fixtures are built by the same rules as in wire_bench.cpp (see "Fixtures" there); the
// runner compares the encoded bytes of both sides before timing (-dump).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
)

// Mirrors of memberlist v0.7.0's wire structs (net.go): same field names, types and tags.
type ping struct {
	SeqNo      uint32
	Node       string
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}
type ackResp struct {
	SeqNo   uint32
	Payload []byte
}
type suspect struct {
	Incarnation uint32
	Node        string
	From        string
}
type alive struct {
	Incarnation uint32
	Node        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Vsn         []uint8
}
type dead struct {
	Incarnation uint32
	Node        string
	From        string
}
type pushPullHeader struct {
	Nodes        int
	UserStateLen int
	Join         bool
}
type pushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       memberlist.NodeStateType
	Vsn         []uint8
}

// memberlist's messageType values (net.go).
const (
	pingMsg     = 0
	ackRespMsg  = 2
	suspectMsg  = 3
	aliveMsg    = 4
	deadMsg     = 5
	pushPullMsg = 6
	compoundMsg = 7
)

// memberlist v0.7.0 net.go limits checked by readRemoteState.
const (
	maxPushStateNodes = 1024 * 1024
	maxPushStateBytes = 20 * 1024 * 1024
)

// ---------------------------------------------------------------------------------------------
// Fixtures (identical rules in wire_bench.cpp)

var defaultVsn = []uint8{1, 5, 2, 0, 0, 0}

func fixtureAlive() *alive {
	return &alive{Incarnation: 42, Node: "node-alpha-1", Addr: []byte{10, 0, 1, 17}, Port: 7946,
		Meta: []byte("region=eu;role=web01"), Vsn: append([]uint8(nil), defaultVsn...)}
}

func fixturePing() *ping {
	return &ping{SeqNo: 70001, Node: "node-bravo-2", SourceAddr: []byte{10, 0, 1, 17}, SourcePort: 7946,
		SourceNode: "node-alpha-1"}
}

type typedMsg struct {
	t uint8
	v any
}

// 20 gossip messages: i%4 in {0,1} alive, 2 suspect, 3 dead.
func fixtureCompound() []typedMsg {
	msgs := make([]typedMsg, 0, 20)
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("node-%07d", i)
		inc := uint32(100 + i)
		switch i % 4 {
		case 0, 1:
			msgs = append(msgs, typedMsg{aliveMsg, &alive{Incarnation: inc, Node: name,
				Addr: []byte{10, 0, 0, byte(i + 1)}, Port: 7946,
				Meta: []byte(fmt.Sprintf("region=eu;role=web%02d", i)), Vsn: append([]uint8(nil), defaultVsn...)}})
		case 2:
			msgs = append(msgs, typedMsg{suspectMsg, &suspect{Incarnation: inc, Node: name, From: "node-alpha-1"}})
		case 3:
			msgs = append(msgs, typedMsg{deadMsg, &dead{Incarnation: inc, Node: name, From: "node-alpha-1"}})
		}
	}
	return msgs
}

func nodeState(i int) memberlist.NodeStateType {
	switch {
	case i%50 == 7:
		return memberlist.StateDead
	case i%20 == 3:
		return memberlist.StateSuspect
	case i%100 == 99:
		return memberlist.StateLeft
	}
	return memberlist.StateAlive
}

func fixturePushPull(n int) ([]pushNodeState, []byte) {
	nodes := make([]pushNodeState, n)
	for i := range nodes {
		nodes[i] = pushNodeState{
			Name:        fmt.Sprintf("node-%05d", i),
			Addr:        []byte{10, 1, byte(i / 256), byte(i % 256)},
			Port:        7946,
			Meta:        []byte(fmt.Sprintf("dc=eu-west-1;rack=r%03d;role=db", i%1000)),
			Incarnation: uint32(1000 + i*37),
			State:       nodeState(i),
			Vsn:         append([]uint8(nil), defaultVsn...),
		}
	}
	user := make([]byte, 1024)
	for j := range user {
		user[j] = byte((j*131 + 7) % 256)
	}
	return nodes, user
}

// ---------------------------------------------------------------------------------------------
// Push/pull, as memberlist's sendLocalState / readStream + readRemoteState do it.

func pushPullEncode(localNodes []pushNodeState, userData []byte, join bool) ([]byte, error) {
	bufConn := bytes.NewBuffer(nil)
	header := pushPullHeader{Nodes: len(localNodes), UserStateLen: len(userData), Join: join}
	hd := codec.MsgpackHandle{}
	enc := codec.NewEncoder(bufConn, &hd)
	if _, err := bufConn.Write([]byte{byte(pushPullMsg)}); err != nil {
		return nil, err
	}
	if err := enc.Encode(&header); err != nil {
		return nil, err
	}
	for i := 0; i < header.Nodes; i++ {
		if err := enc.Encode(&localNodes[i]); err != nil {
			return nil, err
		}
	}
	if userData != nil {
		if _, err := bufConn.Write(userData); err != nil {
			return nil, err
		}
	}
	return bufConn.Bytes(), nil
}

func pushPullDecode(conn io.Reader) (bool, []pushNodeState, []byte, error) {
	// readStream
	var bufConn io.Reader = bufio.NewReader(conn)
	buf := [1]byte{0}
	if _, err := io.ReadFull(bufConn, buf[:]); err != nil {
		return false, nil, nil, err
	}
	if buf[0] != pushPullMsg {
		return false, nil, nil, fmt.Errorf("unexpected message type %d", buf[0])
	}
	hd := codec.MsgpackHandle{}
	dec := codec.NewDecoder(bufConn, &hd)
	// readRemoteState
	var header pushPullHeader
	if err := dec.Decode(&header); err != nil {
		return false, nil, nil, err
	}
	if header.Nodes < 0 || header.Nodes > maxPushStateNodes {
		return false, nil, nil, fmt.Errorf("number of nodes in header (%d) exceeds limit", header.Nodes)
	}
	remoteNodes := make([]pushNodeState, header.Nodes)
	for i := 0; i < header.Nodes; i++ {
		if err := dec.Decode(&remoteNodes[i]); err != nil {
			return false, nil, nil, err
		}
	}
	if header.UserStateLen < 0 || header.UserStateLen > maxPushStateBytes {
		return false, nil, nil, fmt.Errorf("user state length (%d) exceeds limit", header.UserStateLen)
	}
	var userBuf []byte
	if header.UserStateLen > 0 {
		userBuf = make([]byte, header.UserStateLen)
		n, err := io.ReadAtLeast(bufConn, userBuf, header.UserStateLen)
		if err == nil && n != header.UserStateLen {
			err = fmt.Errorf("failed to read full user state (%d / %d)", n, header.UserStateLen)
		}
		if err != nil {
			return false, nil, nil, err
		}
	}
	return header.Join, remoteNodes, userBuf, nil
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the checks and the timed loops

func encodeBytes(t uint8, v any) []byte {
	buf, err := mlEncode(t, v, false)
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func buildCompound(msgs []typedMsg) []byte {
	parts := make([][]byte, len(msgs))
	for i, m := range msgs {
		buf, err := mlEncode(m.t, m.v, false)
		if err != nil {
			panic(err)
		}
		parts[i] = buf.Bytes()
	}
	return mlMakeCompoundMessage(parts).Bytes()
}

// Splits and decodes every part, dispatching on the type byte as handleCommand does.
func decodeCompound(buf []byte) ([]any, error) {
	if len(buf) == 0 || buf[0] != compoundMsg {
		return nil, errors.New("not a compound")
	}
	trunc, parts, err := mlDecodeCompoundMessage(buf[1:])
	if err != nil {
		return nil, err
	}
	if trunc != 0 {
		return nil, fmt.Errorf("%d truncated parts", trunc)
	}
	out := make([]any, 0, len(parts))
	for _, p := range parts {
		switch p[0] {
		case aliveMsg:
			var a alive
			err = mlDecode(p[1:], &a)
			out = append(out, &a)
		case suspectMsg:
			var s suspect
			err = mlDecode(p[1:], &s)
			out = append(out, &s)
		case deadMsg:
			var d dead
			err = mlDecode(p[1:], &d)
			out = append(out, &d)
		default:
			err = fmt.Errorf("unexpected part type %d", p[0])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ping/ack round: encode ping, decode ping, encode ackResp answering it, decode ackResp.
func pingAckRound(p *ping) (ackResp, error) {
	pb := encodeBytes(pingMsg, p)
	var got ping
	if err := mlDecode(pb[1:], &got); err != nil {
		return ackResp{}, err
	}
	ab := encodeBytes(ackRespMsg, &ackResp{SeqNo: got.SeqNo, Payload: nil})
	var ack ackResp
	err := mlDecode(ab[1:], &ack)
	return ack, err
}

// ---------------------------------------------------------------------------------------------

type bench struct {
	workload, op string
	bytes        int
	fn           func(b *testing.B)
}

var sink any

func main() {
	testing.Init()
	dump := flag.String("dump", "", "write the encoded workloads to DIR/go_<name>.bin and exit")
	minTime := flag.Duration("min-time", 500*time.Millisecond, "minimum time per repetition")
	reps := flag.Int("reps", 5, "repetitions per operation (best is reported)")
	only := flag.String("only", "", "run only this workload")
	flag.Parse()
	if err := flag.Set("test.benchtime", minTime.String()); err != nil {
		panic(err)
	}

	a := fixtureAlive()
	p := fixturePing()
	msgs := fixtureCompound()
	nodes, user := fixturePushPull(1000)

	aliveEnc := encodeBytes(aliveMsg, a)
	pingEnc := encodeBytes(pingMsg, p)
	ackEnc := encodeBytes(ackRespMsg, &ackResp{SeqNo: p.SeqNo})
	compound := buildCompound(msgs)
	pp, err := pushPullEncode(nodes, user, false)
	if err != nil {
		panic(err)
	}
	pp = append([]byte(nil), pp...)

	// Round-trip checks: every decoder must give back the fixture.
	check := func(ok bool, what string) {
		if !ok {
			fmt.Fprintf(os.Stderr, "wirego: round-trip check failed: %s\n", what)
			os.Exit(1)
		}
	}
	{
		var got alive
		check(mlDecode(aliveEnc[1:], &got) == nil && reflect.DeepEqual(&got, a), "alive")
		ack, err := pingAckRound(p)
		check(err == nil && ack.SeqNo == p.SeqNo && ack.Payload == nil, "ping/ack")
		dec, err := decodeCompound(compound)
		check(err == nil && len(dec) == len(msgs), "compound")
		for i := range msgs {
			check(reflect.DeepEqual(dec[i], msgs[i].v), fmt.Sprintf("compound part %d", i))
		}
		join, gotNodes, gotUser, err := pushPullDecode(bytes.NewReader(pp))
		check(err == nil && !join && reflect.DeepEqual(gotNodes, nodes) && bytes.Equal(gotUser, user), "push/pull")
	}

	if *dump != "" {
		files := map[string][]byte{"alive": aliveEnc, "ping": pingEnc, "ack": ackEnc, "compound": compound,
			"pushpull": pp}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(*dump, "go_"+name+".bin"), b, 0o644); err != nil {
				panic(err)
			}
		}
		return
	}

	benches := []bench{
		{"alive", "encode", len(aliveEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf, err := mlEncode(aliveMsg, a, false)
				if err != nil {
					b.Fatal(err)
				}
				sink = buf
			}
		}},
		{"alive", "decode", len(aliveEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var got alive
				if err := mlDecode(aliveEnc[1:], &got); err != nil {
					b.Fatal(err)
				}
				sink = got.Node
			}
		}},
		{"ping_ack", "encode_ping", len(pingEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf, err := mlEncode(pingMsg, p, false)
				if err != nil {
					b.Fatal(err)
				}
				sink = buf
			}
		}},
		{"ping_ack", "decode_ping", len(pingEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var got ping
				if err := mlDecode(pingEnc[1:], &got); err != nil {
					b.Fatal(err)
				}
				sink = got.Node
			}
		}},
		{"ping_ack", "encode_ack", len(ackEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf, err := mlEncode(ackRespMsg, &ackResp{SeqNo: p.SeqNo, Payload: nil}, false)
				if err != nil {
					b.Fatal(err)
				}
				sink = buf
			}
		}},
		{"ping_ack", "decode_ack", len(ackEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var got ackResp
				if err := mlDecode(ackEnc[1:], &got); err != nil {
					b.Fatal(err)
				}
				sink = got.SeqNo
			}
		}},
		{"ping_ack", "round", len(pingEnc) + len(ackEnc), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ack, err := pingAckRound(p)
				if err != nil {
					b.Fatal(err)
				}
				sink = ack.SeqNo
			}
		}},
		{"compound20", "build", len(compound), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sink = buildCompound(msgs)
			}
		}},
		{"compound20", "decode", len(compound), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				dec, err := decodeCompound(compound)
				if err != nil {
					b.Fatal(err)
				}
				sink = dec
			}
		}},
		{"pushpull1000", "encode", len(pp), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				out, err := pushPullEncode(nodes, user, false)
				if err != nil {
					b.Fatal(err)
				}
				sink = out
			}
		}},
		{"pushpull1000", "decode", len(pp), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, got, u, err := pushPullDecode(bytes.NewReader(pp))
				if err != nil {
					b.Fatal(err)
				}
				sink = got
				sink = u
			}
		}},
	}

	for _, bm := range benches {
		if *only != "" && bm.workload != *only {
			continue
		}
		best := math.Inf(1)
		var bestN int
		var allocs int64
		for r := 0; r < *reps; r++ {
			res := testing.Benchmark(bm.fn)
			if res.N == 0 {
				fmt.Fprintf(os.Stderr, "wirego: %s/%s failed\n", bm.workload, bm.op)
				os.Exit(1)
			}
			ns := float64(res.T.Nanoseconds()) / float64(res.N)
			if ns < best {
				best, bestN, allocs = ns, res.N, res.AllocsPerOp()
			}
		}
		mbps := float64(bm.bytes) / best * 1e3 // bytes/ns -> MB/s (1 MB = 1e6 bytes)
		fmt.Printf("go\t%s\t%s\t%.1f\t%.1f\t%d\t%d\t%d\n", bm.workload, bm.op, best, mbps, bm.bytes, bestN, allocs)
	}
}
