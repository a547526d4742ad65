package gen

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"net"
	"strings"

	"github.com/libmemberlist/interop/vectest"
)

// Fixed test keys. The receiver keyrings of the multi-key vectors never list the
// sender's key first, so decryption has to try several keys.
var (
	Key1   = seqBytes(0x00, 16)
	Key2   = seqBytes(0x10, 16)
	Key3   = seqBytes(0x20, 16)
	Key24  = seqBytes(0x40, 24)
	Key32  = seqBytes(0x60, 32)
	KeyBad = seqBytes(0xf0, 16)
)

func seqBytes(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

var (
	ip4      = net.IPv4(10, 0, 0, 1).To4()
	ip4b     = net.IPv4(10, 0, 0, 2).To4()
	ip4c     = net.IPv4(10, 0, 0, 3).To4()
	ipMapped = net.ParseIP("10.0.0.1") // 16-byte IPv4-mapped form
	ip6      = net.ParseIP("fd00::1:2:3")
	vsn      = []byte{1, 5, 2, 0, 0, 0}
)

// rng returns a deterministic source, so the synthetic part of the files only changes
// when memberlist's output does.
func rng(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

// printable returns n printable ASCII bytes (no `"` or `\`), so dumps stay quoted.
func printable(r *rand.Rand, n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ "
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[r.Intn(len(alpha))]
	}
	return string(b)
}

// text returns about n bytes of varied, word-like text (compressible, but varied enough
// to fill the LZW table several times).
func text(r *rand.Rand, n int) []byte {
	words := strings.Fields("memberlist gossip node alive suspect dead probe ack nack push pull " +
		"state incarnation label keyring compress stream packet datagram cluster member leave join " +
		"delegate broadcast meta version protocol awareness suspicion timeout refute")
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.Intn(len(words))])
		switch r.Intn(4) {
		case 0:
			fmt.Fprintf(&b, "-%d", r.Intn(100000))
		case 1:
			b.WriteByte('\n')
		}
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

func (b *Builder) enc(v any) []byte {
	out, err := vectest.EncodeMsg(b.C, v)
	if err != nil {
		panic(err)
	}
	return out
}

func (b *Builder) compound(msgs ...any) []byte {
	var parts [][]byte
	for _, m := range msgs {
		parts = append(parts, b.enc(m))
	}
	return b.C.MakeCompound(parts)
}

func (b *Builder) packet(msg []byte, o vectest.PacketOpts) []byte {
	out, err := vectest.BuildPacket(b.C, msg, o)
	if err != nil {
		panic(err)
	}
	return out
}

func (b *Builder) stream(body []byte, o vectest.StreamOpts) []byte {
	out, err := vectest.BuildStream(b.C, body, o)
	if err != nil {
		panic(err)
	}
	return out
}

func withKeys(keys ...[]byte) vectest.Params {
	p := vectest.DefaultParams()
	p.Keys = keys
	return p
}

func withLabel(p vectest.Params, label string) vectest.Params {
	p.Label, p.HasLabel = []byte(label), true
	return p
}

func none() vectest.Params { return vectest.DefaultParams() }

// Synthetic adds the deterministic vectors. They are the same list for every version,
// except that label vectors need label support.
func Synthetic(b *Builder) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthetic: %v", r)
		}
	}()
	steps := []func(*Builder) error{synthMsgs, synthPackets, synthStreams, synthLZW, synthErrors}
	if b.C.SupportsLabels() {
		steps = append(steps, synthLabels)
	}
	for _, s := range steps {
		if err := s(b); err != nil {
			return err
		}
	}
	return nil
}

func synthMsgs(b *Builder) error {
	r := rng(1)
	all := []struct {
		name string
		v    any
	}{
		// ping, with and without the v0.2.0 Source fields (omitempty).
		{"ping.plain", &vectest.Ping{SeqNo: 7, Node: "node-b"}},
		{"ping.source_ipv4", &vectest.Ping{SeqNo: 7, Node: "node-b", SourceAddr: ip4, SourcePort: 7946, SourceNode: "node-a"}},
		{"ping.source_ipv6", &vectest.Ping{SeqNo: 8, Node: "node-b", SourceAddr: ip6, SourcePort: 7946, SourceNode: "node-a"}},
		{"ping.source_mapped", &vectest.Ping{SeqNo: 9, Node: "node-b", SourceAddr: ipMapped, SourcePort: 65535, SourceNode: "node-a"}},
		{"ping.source_port_only", &vectest.Ping{SeqNo: 10, Node: "node-b", SourcePort: 7946}},
		{"ping.source_empty_addr", &vectest.Ping{SeqNo: 11, Node: "node-b", SourceAddr: []byte{}, SourceNode: "n"}},
		{"ping.no_node", &vectest.Ping{SeqNo: 0}},
		{"ping.seq_127", &vectest.Ping{SeqNo: 127, Node: "x"}},
		{"ping.seq_128", &vectest.Ping{SeqNo: 128, Node: "x"}},
		{"ping.seq_255", &vectest.Ping{SeqNo: 255, Node: "x"}},
		{"ping.seq_256", &vectest.Ping{SeqNo: 256, Node: "x"}},
		{"ping.seq_65535", &vectest.Ping{SeqNo: 65535, Node: "x"}},
		{"ping.seq_65536", &vectest.Ping{SeqNo: 65536, Node: "x"}},
		{"ping.seq_max", &vectest.Ping{SeqNo: math.MaxUint32, Node: "x"}},
		{"ping.name_31", &vectest.Ping{SeqNo: 1, Node: strings.Repeat("n", 31), SourceNode: strings.Repeat("s", 31)}},
		{"ping.name_32", &vectest.Ping{SeqNo: 1, Node: strings.Repeat("n", 32), SourceNode: strings.Repeat("s", 32)}},
		{"ping.name_nonascii", &vectest.Ping{SeqNo: 1, Node: "n\u00f6de \"q\" \\ \t", SourceNode: "\x00\xff"}},

		{"indirect.full", &vectest.IndirectPingReq{SeqNo: 9, Target: ip4c, Port: 7946, Node: "node-c", Nack: true,
			SourceAddr: ip4, SourcePort: 7946, SourceNode: "node-a"}},
		{"indirect.no_source", &vectest.IndirectPingReq{SeqNo: 9, Target: ip4c, Port: 7946, Node: "node-c"}},
		{"indirect.ipv6", &vectest.IndirectPingReq{SeqNo: 300, Target: ip6, Port: 1, Node: "node-c", Nack: true,
			SourceAddr: ip6, SourcePort: 2, SourceNode: "node-a"}},
		{"indirect.mapped_port0", &vectest.IndirectPingReq{SeqNo: 70000, Target: ipMapped, Port: 0, Node: ""}},
		{"indirect.target_nil", &vectest.IndirectPingReq{SeqNo: 1}},

		{"ack.payload", &vectest.AckResp{SeqNo: 7, Payload: []byte("payload")}},
		{"ack.nil", &vectest.AckResp{SeqNo: 7}},
		{"ack.empty", &vectest.AckResp{SeqNo: 7, Payload: []byte{}}},
		{"ack.payload_31", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 31)}},
		{"ack.payload_32", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 32)}},
		{"ack.payload_255", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 255)}},
		{"ack.payload_256", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 256)}},
		{"ack.payload_65535", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 65535)}},
		{"ack.payload_65536", &vectest.AckResp{SeqNo: 1, Payload: randBytes(r, 65536)}},

		{"nack.plain", &vectest.NackResp{SeqNo: 7}},
		{"nack.max", &vectest.NackResp{SeqNo: math.MaxUint32}},

		{"err.x", &vectest.ErrResp{Error: "x"}},
		{"err.empty", &vectest.ErrResp{}},
		{"err.text", &vectest.ErrResp{Error: "encryption is configured but remote state is not encrypted"}},
		{"err.nonascii", &vectest.ErrResp{Error: "b\u00e4d \"state\"\n"}},

		{"suspect.plain", &vectest.Suspect{Incarnation: 3, Node: "node-b", From: "node-a"}},
		{"suspect.inc_128", &vectest.Suspect{Incarnation: 128, Node: "node-b", From: "node-a"}},
		{"suspect.inc_max", &vectest.Suspect{Incarnation: math.MaxUint32, Node: "node-b", From: ""}},
		{"suspect.names_255_256", &vectest.Suspect{Incarnation: 1, Node: strings.Repeat("b", 255), From: strings.Repeat("a", 256)}},

		{"alive.ipv4", &vectest.Alive{Incarnation: 1, Node: "node-a", Addr: ip4, Port: 7946, Meta: []byte("meta"), Vsn: vsn}},
		{"alive.ipv6", &vectest.Alive{Incarnation: 2, Node: "node-v6", Addr: ip6, Port: 7946, Meta: []byte("m6"), Vsn: vsn}},
		{"alive.mapped", &vectest.Alive{Incarnation: 3, Node: "node-mapped", Addr: ipMapped, Port: 7946, Vsn: vsn}},
		{"alive.meta_nil", &vectest.Alive{Incarnation: 1, Node: "n", Addr: ip4, Port: 1, Vsn: vsn}},
		{"alive.meta_empty", &vectest.Alive{Incarnation: 1, Node: "n", Addr: ip4, Port: 1, Meta: []byte{}, Vsn: vsn}},
		{"alive.meta_512", &vectest.Alive{Incarnation: 1, Node: "n", Addr: ip4, Port: 1, Meta: randBytes(r, 512), Vsn: vsn}},
		{"alive.name_70000", &vectest.Alive{Incarnation: 1, Node: printable(r, 70000), Addr: ip4, Port: 1, Vsn: vsn}},
		{"alive.name_binary", &vectest.Alive{Incarnation: 1, Node: "\xf4\x00\x01node\xff", Addr: ip4, Port: 1, Vsn: vsn}},
		{"alive.vsn_custom", &vectest.Alive{Incarnation: 4294967295, Node: "n", Addr: ip4, Port: 65535, Vsn: []byte{1, 5, 5, 2, 4, 3}}},
		{"alive.port0", &vectest.Alive{Incarnation: 1, Node: "n", Addr: ip4, Port: 0, Vsn: vsn}},
		{"alive.addr_vsn_nil", &vectest.Alive{Incarnation: 0, Node: ""}},

		{"dead.plain", &vectest.Dead{Incarnation: 1, Node: "node-b", From: "node-a"}},
		{"dead.leave", &vectest.Dead{Incarnation: 1, Node: "node-a", From: "node-a"}},
		{"dead.leave_v015", &vectest.Dead{Incarnation: 5, Node: "node-a", From: ""}},

		{"user.empty", &vectest.User{}},
		{"user.text", &vectest.User{Msg: []byte("hello")}},
		{"user.all_bytes", &vectest.User{Msg: seqBytes(0, 256)}},
		{"user.2000", &vectest.User{Msg: randBytes(r, 2000)}},
	}
	for _, m := range all {
		if err := b.Msg(m.name, m.v); err != nil {
			return err
		}
	}
	return nil
}

func pingAB() *vectest.Ping {
	return &vectest.Ping{SeqNo: 7, Node: "node-b", SourceAddr: ip4, SourcePort: 7946, SourceNode: "node-a"}
}

func suspectB() *vectest.Suspect {
	return &vectest.Suspect{Incarnation: 3, Node: "node-b", From: "node-a"}
}

// mixed returns n assorted gossip messages.
func mixed(r *rand.Rand, n int) []any {
	var out []any
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node-%03d", i)
		switch i % 5 {
		case 0:
			out = append(out, &vectest.Alive{Incarnation: uint32(i + 1), Node: name, Addr: ip4, Port: 7946, Meta: []byte(printable(r, i%7)), Vsn: vsn})
		case 1:
			out = append(out, &vectest.Suspect{Incarnation: uint32(i), Node: name, From: "node-a"})
		case 2:
			out = append(out, &vectest.Dead{Incarnation: uint32(i), Node: name, From: name})
		case 3:
			out = append(out, &vectest.User{Msg: []byte(printable(r, 1+i%9))})
		case 4:
			out = append(out, &vectest.AckResp{SeqNo: uint32(i)})
		}
	}
	return out
}

func synthPackets(b *Builder) error {
	r := rng(2)
	ping, sus := pingAB(), suspectB()
	type pk struct {
		name string
		msgs []any // leaf messages
		body []byte
		o    vectest.PacketOpts
		p    vectest.Params
	}
	c2 := []any{ping, sus}
	c20 := mixed(r, 20)
	c127 := mixed(r, 127)
	c255 := mixed(r, 255)
	// A compress layer inside a compound (any nesting is legal on UDP).
	nestedInner := b.compound(&vectest.AckResp{SeqNo: 1, Payload: []byte("p")}, &vectest.NackResp{SeqNo: 2})
	nestedComp, err := b.C.CompressPayload(nestedInner)
	if err != nil {
		return err
	}
	nested := b.C.MakeCompound([][]byte{b.enc(ping), nestedComp, b.enc(&vectest.User{Msg: []byte("tail")})})
	nestedMsgs := []any{ping, &vectest.AckResp{SeqNo: 1, Payload: []byte("p")}, &vectest.NackResp{SeqNo: 2}, &vectest.User{Msg: []byte("tail")}}
	// Enough varied gossip that LZW resets its table (> 4 k codes).
	var big []any
	for i := 0; i < 24; i++ {
		big = append(big, &vectest.Alive{Incarnation: uint32(i + 1), Node: fmt.Sprintf("big-%d", i), Addr: ip4, Port: 7946,
			Meta: []byte(printable(r, 500)), Vsn: vsn})
	}
	userBig := &vectest.User{Msg: text(r, 1200)}
	if err := b.mustReset("pkt.compress_reset", b.compound(big...)); err != nil {
		return err
	}

	list := []pk{
		{"pkt.ping", []any{ping}, b.enc(ping), vectest.PacketOpts{}, none()},
		{"pkt.ping_v015", []any{&vectest.Ping{SeqNo: 7, Node: "node-b"}}, b.enc(&vectest.Ping{SeqNo: 7, Node: "node-b"}), vectest.PacketOpts{}, none()},
		{"pkt.ping.crc", []any{ping}, b.enc(ping), vectest.PacketOpts{CRC: true}, none()},
		{"pkt.indirect.crc", []any{&vectest.IndirectPingReq{SeqNo: 9, Target: ip6, Port: 7946, Node: "node-c", Nack: true, SourceAddr: ip4, SourcePort: 7946, SourceNode: "node-a"}},
			nil, vectest.PacketOpts{CRC: true}, none()},
		{"pkt.user", []any{&vectest.User{Msg: []byte("best effort")}}, nil, vectest.PacketOpts{}, none()},
		{"pkt.user.compressed", []any{userBig}, nil, vectest.PacketOpts{CompressIfLess: true, CRC: true}, none()},
		{"pkt.compound2", c2, b.compound(c2...), vectest.PacketOpts{}, none()},
		{"pkt.compound2.crc", c2, b.compound(c2...), vectest.PacketOpts{CRC: true}, none()},
		{"pkt.compound2.compress_forced", c2, b.compound(c2...), vectest.PacketOpts{Compress: true}, none()},
		{"pkt.compound20", c20, b.compound(c20...), vectest.PacketOpts{}, none()},
		{"pkt.compound20.compress.crc", c20, b.compound(c20...), vectest.PacketOpts{CompressIfLess: true, CRC: true}, none()},
		{"pkt.compound127", c127, b.compound(c127...), vectest.PacketOpts{CRC: true}, none()},
		{"pkt.nested", nestedMsgs, nested, vectest.PacketOpts{Compress: true, CRC: true}, none()},
		{"pkt.compress_reset", big, b.compound(big...), vectest.PacketOpts{Compress: true}, none()},
		{"pkt.enc1.one_key", []any{ping}, b.enc(ping), vectest.PacketOpts{EncKey: Key1, EncVsn: 1}, withKeys(Key1)},
		{"pkt.enc1.third_key", []any{ping}, b.enc(ping), vectest.PacketOpts{EncKey: Key2, EncVsn: 1}, withKeys(Key1, Key3, Key2)},
		{"pkt.enc0.second_key", []any{ping}, b.enc(ping), vectest.PacketOpts{EncKey: Key2, EncVsn: 0}, withKeys(Key3, Key2)},
		{"pkt.enc0.block_aligned", []any{&vectest.User{Msg: []byte("0123456789abcde")}}, nil, vectest.PacketOpts{EncKey: Key1, EncVsn: 0}, withKeys(Key1)},
		{"pkt.enc1.aes192", []any{sus}, b.enc(sus), vectest.PacketOpts{EncKey: Key24, EncVsn: 1, CRC: true}, withKeys(Key1, Key24)},
		{"pkt.enc1.aes256", []any{sus}, b.enc(sus), vectest.PacketOpts{EncKey: Key32, EncVsn: 1}, withKeys(Key2, Key1, Key32)},
		{"pkt.enc1.crc.compress.compound20", c20, b.compound(c20...), vectest.PacketOpts{Compress: true, CRC: true, EncKey: Key3, EncVsn: 1}, withKeys(Key1, Key2, Key3)},
		{"pkt.enc0.crc.compound2", c2, b.compound(c2...), vectest.PacketOpts{CRC: true, EncKey: Key1, EncVsn: 0}, withKeys(Key2, Key1)},
	}
	for _, x := range list {
		body := x.body
		if body == nil {
			body = b.enc(x.msgs[0])
		}
		if err := b.Packet(x.name, b.packet(body, x.o), x.p, x.msgs); err != nil {
			return err
		}
	}

	// GossipVerifyIncoming=false: a plaintext packet is accepted by a node with keys.
	p := withKeys(Key1)
	p.VerifyIncoming = false
	if err := b.Packet("pkt.plain_verify_incoming_0", b.enc(ping), p, []any{ping}); err != nil {
		return err
	}

	// 255 parts: makeCompoundMessage writes it correctly in every version, but before
	// v0.2.4 decodeCompoundMessage computes numParts*2 in uint8, so for more than 127
	// parts it starts reading the parts at the wrong offset.
	var parts255 [][]byte
	for _, m := range c255 {
		parts255 = append(parts255, b.enc(m))
	}
	data := b.C.MakeCompound(parts255)
	if b.C.MaxCompoundParts() < 255 {
		return b.KnownMisdecode("pkt.compound255", data, parts255, c255,
			"memberlist v0.1.5's decodeCompoundMessage mis-splits compounds of more than 127 parts (numParts*2 is computed in uint8); expect is the correct reading")
	}
	return b.Packet("pkt.compound255", data, none(), c255)
}

func nodeState(name string, addr []byte, state int, meta []byte) *vectest.PushNodeState {
	return &vectest.PushNodeState{Name: name, Addr: addr, Port: 7946, Meta: meta, Incarnation: 1,
		State: vectest.NodeStateType(state), Vsn: vsn}
}

func (b *Builder) pushPull(join bool, nodes []*vectest.PushNodeState, user []byte) ([]byte, string) {
	h := &vectest.PushPullHeader{Nodes: len(nodes), UserStateLen: len(user), Join: join}
	body, err := vectest.PushPullBody(b.C, h, nodes, user)
	if err != nil {
		panic(err)
	}
	ds := []string{vectest.Dump(h)}
	for _, n := range nodes {
		ds = append(ds, vectest.Dump(n))
	}
	ds = append(ds, "userState="+vectest.DumpBytes(user))
	return body, vectest.JoinDumps(ds)
}

func (b *Builder) userMsg(msg []byte) ([]byte, string) {
	body, err := vectest.UserMsgBody(b.C, msg)
	if err != nil {
		panic(err)
	}
	return body, vectest.Dump(&vectest.User{Msg: msg})
}

func reenc(b *Builder, p vectest.Params) vectest.Params {
	p.Ints = b.C.Ints()
	p.Reencode = 1
	return p
}

func synthStreams(b *Builder) error {
	r := rng(3)
	type st struct {
		name string
		body []byte
		dump string
		o    vectest.StreamOpts
		p    vectest.Params
	}
	golden, goldenDump := b.pushPull(true, []*vectest.PushNodeState{nodeState("node-a", ip4, 0, []byte("meta"))}, []byte("USER"))
	noUser, noUserDump := b.pushPull(false, []*vectest.PushNodeState{
		nodeState("node-a", ip4, 0, nil), nodeState("node-b", ipMapped, 1, []byte{}), nodeState("node-c", ip6, 2, []byte("m")),
		nodeState("node-d", ip4b, 3, nil)}, nil)
	// 200 node states (Nodes = 200) and 40000 bytes of user state.
	var many []*vectest.PushNodeState
	for i := 0; i < 200; i++ {
		addr := []byte{10, 1, byte(i >> 8), byte(i)}
		if i%3 == 1 {
			addr = net.IPv4(10, 1, byte(i>>8), byte(i))
		}
		many = append(many, nodeState(fmt.Sprintf("n%03d", i), addr, i%4, []byte(printable(r, i%11))))
	}
	many200, many200Dump := b.pushPull(false, many, text(r, 40000))
	// State edge values for a Go int, and 70000 bytes of user state.
	var edges []*vectest.PushNodeState
	for i, s := range []int{0, 1, 2, 3, 127, 128, 200, 255, 256, 32767, 32768, 40000, 65535, 65536, 70000, 2147483647,
		-1, -32, -33, -128, -129, -32768, -32769, -2147483648} {
		edges = append(edges, nodeState(fmt.Sprintf("s%02d", i), ip4, s, nil))
	}
	edgeBody, edgeDump := b.pushPull(true, edges, randBytes(r, 70000))
	var edges64 []*vectest.PushNodeState
	for i, s := range []int64{2147483648, 4294967295, 4294967296, math.MaxInt64, -2147483649, math.MinInt64} {
		edges64 = append(edges64, nodeState(fmt.Sprintf("w%02d", i), ip4, int(s), nil))
	}
	edge64Body, edge64Dump := b.pushPull(false, edges64, nil)
	longName, longNameDump := b.pushPull(true, []*vectest.PushNodeState{
		{Name: printable(r, 70000), Addr: ip6, Port: 1, Meta: randBytes(r, 512), Incarnation: math.MaxUint32, Vsn: []byte{1, 5, 4, 1, 2, 2}}},
		[]byte{})
	lzwState, lzwStateDump := b.pushPull(true, []*vectest.PushNodeState{nodeState("node-a", ip4, 0, []byte("meta"))}, []byte(printable(r, 12000)))
	if err := b.mustReset("str.pushpull.lzw_reset", lzwState); err != nil {
		return err
	}

	u5, u5d := b.userMsg([]byte("hello"))
	u0, u0d := b.userMsg(nil)
	u127, u127d := b.userMsg(randBytes(r, 127))
	u200, u200d := b.userMsg(randBytes(r, 200))
	u40000, u40000d := b.userMsg(text(r, 40000))
	u70000, u70000d := b.userMsg(randBytes(r, 70000))

	ping := &vectest.Ping{SeqNo: 42, Node: "node-b", SourceAddr: ip4, SourcePort: 7946, SourceNode: "node-a"}
	ack := &vectest.AckResp{SeqNo: 42}
	er := &vectest.ErrResp{Error: "encryption is configured but remote state is not encrypted"}

	plainR := reenc(b, none())
	list := []st{
		{"str.pushpull.join", golden, goldenDump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.join.compressed", golden, goldenDump, vectest.StreamOpts{Compress: true}, plainR},
		{"str.pushpull.no_user_state", noUser, noUserDump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.nodes_200", many200, many200Dump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.nodes_200.compressed", many200, many200Dump, vectest.StreamOpts{Compress: true}, plainR},
		{"str.pushpull.state_edges", edgeBody, edgeDump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.state_int64", edge64Body, edge64Dump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.name_70000", longName, longNameDump, vectest.StreamOpts{}, plainR},
		{"str.pushpull.lzw_reset", lzwState, lzwStateDump, vectest.StreamOpts{Compress: true}, plainR},
		{"str.pushpull.enc1.second_key", golden, goldenDump, vectest.StreamOpts{EncKey: Key1, EncVsn: 1}, withKeys(Key2, Key1)},
		{"str.pushpull.enc0.third_key", noUser, noUserDump, vectest.StreamOpts{EncKey: Key3, EncVsn: 0}, withKeys(Key1, Key2, Key3)},
		{"str.pushpull.enc1.compressed", noUser, noUserDump, vectest.StreamOpts{Compress: true, EncKey: Key32, EncVsn: 1}, withKeys(Key1, Key32)},
		{"str.user.hello", u5, u5d, vectest.StreamOpts{}, plainR},
		{"str.user.empty", u0, u0d, vectest.StreamOpts{}, plainR},
		{"str.user.127", u127, u127d, vectest.StreamOpts{}, plainR},
		{"str.user.200", u200, u200d, vectest.StreamOpts{}, plainR},
		{"str.user.40000", u40000, u40000d, vectest.StreamOpts{}, plainR},
		{"str.user.70000", u70000, u70000d, vectest.StreamOpts{}, plainR},
		{"str.user.hello.enc1", u5, u5d, vectest.StreamOpts{EncKey: Key1, EncVsn: 1}, withKeys(Key1)},
		{"str.user.hello.enc0.compressed", u5, u5d, vectest.StreamOpts{Compress: true, EncKey: Key2, EncVsn: 0}, withKeys(Key1, Key2)},
		{"str.user.200.enc1.aes192", u200, u200d, vectest.StreamOpts{EncKey: Key24, EncVsn: 1}, withKeys(Key3, Key24)},
		{"str.ping", b.enc(ping), vectest.Dump(ping), vectest.StreamOpts{}, plainR},
		{"str.ping.compressed.enc1", b.enc(ping), vectest.Dump(ping), vectest.StreamOpts{Compress: true, EncKey: Key2, EncVsn: 1}, withKeys(Key1, Key2)},
		{"str.ack", b.enc(ack), vectest.Dump(ack), vectest.StreamOpts{}, plainR},
		{"str.ack.compressed", b.enc(ack), vectest.Dump(ack), vectest.StreamOpts{Compress: true}, plainR},
		{"str.err", b.enc(er), vectest.Dump(er), vectest.StreamOpts{}, plainR},
		{"str.err.enc1", b.enc(er), vectest.Dump(er), vectest.StreamOpts{EncKey: Key1, EncVsn: 1}, withKeys(Key1)},
	}
	for _, x := range list {
		if err := b.Stream(x.name, b.stream(x.body, x.o), x.p, x.dump); err != nil {
			return err
		}
	}
	// Unencrypted stream accepted by a keyed receiver with GossipVerifyIncoming=false.
	p := withKeys(Key1)
	p.VerifyIncoming = false
	return b.Stream("str.user.plain_verify_incoming_0", b.stream(u5, vectest.StreamOpts{}), p, u5d)
}

// mustReset checks that compressing in makes LZW reset its table at least once.
func (b *Builder) mustReset(name string, in []byte) error {
	wrapped, err := b.C.CompressPayload(in)
	if err != nil {
		return err
	}
	var cm vectest.Compress
	if err := b.C.Decode(wrapped[1:], &cm); err != nil {
		return err
	}
	if n := vectest.LZWTableResets(cm.Buf); n < 1 {
		return fmt.Errorf("%s: compressing %d bytes gave %d LZW table resets, want >= 1", name, len(in), n)
	}
	return nil
}

func synthLZW(b *Builder) error {
	r := rng(4)
	inputs := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one", []byte{'x'}},
		{"a20", bytes.Repeat([]byte{'a'}, 20)},
		{"kwkwk", bytes.Repeat([]byte("ab"), 300)},
		{"all_bytes", seqBytes(0, 256)},
		{"text_12k", text(r, 12000)},
		{"text_40k_reset", text(r, 40000)},
		{"random_10k_reset", randBytes(r, 10000)},
		{"random_20k_reset", randBytes(r, 20000)},
	}
	for _, x := range inputs {
		if err := b.LZW(x.name, x.in); err != nil {
			return err
		}
	}
	return nil
}

func synthErrors(b *Builder) error {
	pkt, str := vectest.KindPacket, vectest.KindStream
	ping := pingAB()
	pingB := b.enc(ping)

	crc := b.packet(pingB, vectest.PacketOpts{CRC: true})
	crc[2] ^= 0xff
	compound := b.compound(ping, suspectB(), ping)
	truncLens := compound[:1+1+2*2] // count 3, only two lengths
	enc := b.packet(pingB, vectest.PacketOpts{EncKey: KeyBad, EncVsn: 1})
	encTrunc := b.packet(pingB, vectest.PacketOpts{EncKey: Key1, EncVsn: 1})[:28]
	badVsn := b.packet(pingB, vectest.PacketOpts{EncKey: Key1, EncVsn: 1})
	badVsn[0] = 2
	tamper := b.packet(pingB, vectest.PacketOpts{EncKey: Key1, EncVsn: 1})
	tamper[20] ^= 1
	algo := b.enc(&vectest.Compress{Algo: 1, Buf: []byte{0x00, 0x03, 0x02}})
	good, _ := b.C.CompressPayload(pingB)
	var cm vectest.Compress
	if err := b.C.Decode(good[1:], &cm); err != nil {
		return err
	}
	noEOF := b.enc(&vectest.Compress{Algo: 0, Buf: cm.Buf[:len(cm.Buf)-2]})
	alive := b.enc(&vectest.Alive{Incarnation: 1, Node: "node-a", Addr: ip4, Port: 7946, Vsn: vsn})

	err := firstErr(
		b.Reject(pkt, "err.pkt.bad_crc", crc, none(), "CRC32 does not match"),
		b.Reject(pkt, "err.pkt.compound_truncated_lengths", truncLens, none(), "compound length table truncated"),
		b.Reject(pkt, "err.pkt.compound_no_count", []byte{vectest.CompoundMsg}, none(), "compound without count byte"),
		b.Reject(pkt, "err.pkt.wrong_key", enc, withKeys(Key1, Key2), "no installed key decrypts it"),
		b.Reject(pkt, "err.pkt.plain_to_encrypted", pingB, withKeys(Key1), "plaintext packet, receiver requires encryption"),
		b.Reject(pkt, "err.pkt.enc_truncated", encTrunc, withKeys(Key1), "encrypted payload shorter than the minimum"),
		b.Reject(pkt, "err.pkt.enc_bad_version", badVsn, withKeys(Key1), "encryption version 2"),
		b.Reject(pkt, "err.pkt.enc_tampered", tamper, withKeys(Key1), "GCM tag does not verify"),
		b.Reject(pkt, "err.pkt.compress_unknown_algo", algo, none(), "unknown compression algorithm 1"),
		b.Reject(pkt, "err.pkt.compress_no_eof", noEOF, none(), "LZW stream without EOF code"),
		b.Reject(pkt, "err.pkt.truncated_msgpack", alive[:len(alive)-4], none(), "msgpack object truncated"),
		b.Reject(pkt, "err.pkt.pushpull_on_udp", []byte{vectest.PushPullMsg, 0x80}, none(), "type 6 is not valid in a packet"),
		b.Reject(pkt, "err.pkt.errresp_on_udp", b.enc(&vectest.ErrResp{Error: "x"}), none(), "type 13 is not valid in a packet"),
		b.Reject(pkt, "err.pkt.unknown_type", []byte{0x0e, 0x80}, none(), "unknown message type 14"),
		b.Reject(vectest.KindMsg, "err.msg.truncated", alive[:10], none(), "msgpack object truncated"),
		b.Reject(vectest.KindMsg, "err.msg.port_overflow", portOverflow(), none(), "Port 65536 does not fit uint16"),
		b.Reject(vectest.KindLZW, "err.lzw.no_eof", cm.Buf[:len(cm.Buf)-2], none(), "LZW stream without EOF code"),
		b.Reject(vectest.KindLZW, "err.lzw.bad_code", []byte{0x00, 0xff, 0xff, 0xff}, none(), "LZW code above the table"),
	)
	if err != nil {
		return err
	}

	u5, _ := b.userMsg([]byte("hello"))
	pp, _ := b.pushPull(true, []*vectest.PushNodeState{nodeState("node-a", ip4, 0, nil), nodeState("node-b", ip4b, 0, nil)}, []byte("USER"))
	ppNodesTrunc := b.truncatedPushPull()
	wrong := b.stream(u5, vectest.StreamOpts{EncKey: KeyBad, EncVsn: 1})
	big := []byte{vectest.EncryptMsg, 0x01, 0x40, 0x00, 0x01} // length 20 MiB + 1
	negNodes := b.rawPushPull(-1, 0)
	hugeState := b.rawPushPull(0, 21*1024*1024)
	emptyComp, _ := b.C.CompressPayload(nil)
	return firstErr(
		b.Reject(str, "err.str.plain_to_encrypted", u5, withKeys(Key1), "unencrypted stream, receiver requires encryption"),
		b.Reject(str, "err.str.encrypted_to_plain", b.stream(u5, vectest.StreamOpts{EncKey: Key1, EncVsn: 1}), none(), "encrypted stream, receiver has no keys"),
		b.Reject(str, "err.str.wrong_key", wrong, withKeys(Key1, Key2, Key3), "no installed key decrypts it"),
		b.Reject(str, "err.str.enc_length_over_limit", big, withKeys(Key1), "encrypted length above 20 MiB"),
		b.Reject(str, "err.str.user_truncated", u5[:len(u5)-2], none(), "user message shorter than UserMsgLen"),
		b.Reject(str, "err.str.pushpull_user_truncated", pp[:len(pp)-1], none(), "user state shorter than UserStateLen"),
		b.Reject(str, "err.str.pushpull_nodes_truncated", ppNodesTrunc, none(), "fewer node states than Nodes"),
		b.Reject(str, "err.str.pushpull_nodes_negative", negNodes, none(), "negative Nodes"),
		b.Reject(str, "err.str.pushpull_user_state_21mib", hugeState, none(), "UserStateLen 21 MiB (limit 20 MiB in v0.6.0+, short read before)"),
		b.Reject(str, "err.str.compress_empty", emptyComp, none(), "compressed stream message is empty"),
		b.Reject(str, "err.str.compress_unknown_algo", algo, none(), "unknown compression algorithm 1"),
		b.Reject(str, "err.str.alive_on_stream", alive, none(), "type 4 is not valid on a stream"),
	)
}

// portOverflow is an alive message whose Port is 65536 (d2 00 01 00 00).
func portOverflow() []byte {
	var buf bytes.Buffer
	buf.Write([]byte{vectest.AliveMsg, 0x82})
	buf.Write([]byte{0xa4, 'N', 'o', 'd', 'e', 0xa1, 'n'})
	buf.Write([]byte{0xa4, 'P', 'o', 'r', 't', 0xce, 0x00, 0x01, 0x00, 0x00})
	return buf.Bytes()
}

// rawPushPull encodes a push/pull header with arbitrary counts and nothing after it.
func (b *Builder) rawPushPull(nodes, userLen int) []byte {
	body, err := vectest.PushPullBody(b.C, &vectest.PushPullHeader{Nodes: nodes, UserStateLen: userLen}, nil, nil)
	if err != nil {
		panic(err)
	}
	return body
}

// truncatedPushPull claims 3 node states but carries 2.
func (b *Builder) truncatedPushPull() []byte {
	two := []*vectest.PushNodeState{nodeState("node-a", ip4, 0, nil), nodeState("node-b", ip4b, 0, nil)}
	body, err := vectest.PushPullBody(b.C, &vectest.PushPullHeader{Nodes: 3, Join: true}, two, nil)
	if err != nil {
		panic(err)
	}
	return body
}

func synthLabels(b *Builder) error {
	ping := pingAB()
	pingB := b.enc(ping)
	c2 := []any{ping, suspectB()}
	label255 := strings.Repeat("L", 255)
	binLabel := "\x00\xf4\xffcl\u00fcster"
	u5, u5d := b.userMsg([]byte("hello"))
	pp, ppd := b.pushPull(true, []*vectest.PushNodeState{nodeState("node-a", ip4, 0, []byte("meta"))}, []byte("USER"))

	type pk struct {
		name string
		msgs []any
		body []byte
		o    vectest.PacketOpts
		p    vectest.Params
	}
	list := []pk{
		{"pkt.label", []any{ping}, pingB, vectest.PacketOpts{Label: "lbl"}, withLabel(none(), "lbl")},
		{"pkt.label.crc", []any{ping}, pingB, vectest.PacketOpts{Label: "lbl", CRC: true}, withLabel(none(), "lbl")},
		{"pkt.label255", []any{ping}, pingB, vectest.PacketOpts{Label: label255}, withLabel(none(), label255)},
		{"pkt.label_binary.compress", c2, b.compound(c2...), vectest.PacketOpts{Label: binLabel, Compress: true}, withLabel(none(), binLabel)},
		{"pkt.label.enc1.crc.compound2", c2, b.compound(c2...), vectest.PacketOpts{Label: "lbl", CRC: true, EncKey: Key1, EncVsn: 1}, withLabel(withKeys(Key2, Key1), "lbl")},
		{"pkt.label.enc0", []any{ping}, pingB, vectest.PacketOpts{Label: "lbl", EncKey: Key3, EncVsn: 0}, withLabel(withKeys(Key1, Key2, Key3), "lbl")},
		{"pkt.label255.enc1", []any{ping}, pingB, vectest.PacketOpts{Label: label255, EncKey: Key32, EncVsn: 1}, withLabel(withKeys(Key32), label255)},
	}
	for _, x := range list {
		if err := b.Packet(x.name, b.packet(x.body, x.o), x.p, x.msgs); err != nil {
			return err
		}
	}
	type st struct {
		name string
		body []byte
		dump string
		o    vectest.StreamOpts
		p    vectest.Params
	}
	slist := []st{
		{"str.label.user", u5, u5d, vectest.StreamOpts{Label: "lbl"}, reenc(b, withLabel(none(), "lbl"))},
		{"str.label.user.enc1", u5, u5d, vectest.StreamOpts{Label: "lbl", EncKey: Key1, EncVsn: 1}, withLabel(withKeys(Key1), "lbl")},
		{"str.label.pushpull.compressed.enc1", pp, ppd, vectest.StreamOpts{Label: binLabel, Compress: true, EncKey: Key2, EncVsn: 1}, withLabel(withKeys(Key1, Key2), binLabel)},
		{"str.label255.pushpull.enc0", pp, ppd, vectest.StreamOpts{Label: label255, EncKey: Key1, EncVsn: 0}, withLabel(withKeys(Key3, Key1), label255)},
		{"str.label.pushpull.compressed", pp, ppd, vectest.StreamOpts{Label: "lbl", Compress: true}, reenc(b, withLabel(none(), "lbl"))},
	}
	for _, x := range slist {
		if err := b.Stream(x.name, b.stream(x.body, x.o), x.p, x.dump); err != nil {
			return err
		}
	}

	pkt, str := vectest.KindPacket, vectest.KindStream
	lbl := b.packet(pingB, vectest.PacketOpts{Label: "lbl"})
	encA := b.packet(pingB, vectest.PacketOpts{Label: "aaa", EncKey: Key1, EncVsn: 1})
	// Same ciphertext under a different label header: the AAD no longer matches.
	swapped := append([]byte{vectest.HasLabelMsg, 3, 'b', 'b', 'b'}, encA[5:]...)
	strEnc := b.stream(u5, vectest.StreamOpts{Label: "aaa", EncKey: Key1, EncVsn: 1})
	strSwapped := append([]byte{vectest.HasLabelMsg, 3, 'b', 'b', 'b'}, strEnc[5:]...)
	return firstErr(
		b.Reject(pkt, "err.pkt.label_len0", append([]byte{vectest.HasLabelMsg, 0}, pingB...), none(), "label header with length 0"),
		b.Reject(pkt, "err.pkt.label_truncated", []byte{vectest.HasLabelMsg, 5, 'a', 'b'}, withLabel(none(), "ab"), "label header longer than the packet"),
		b.Reject(pkt, "err.pkt.label_mismatch", lbl, withLabel(none(), "other"), "label differs from the receiver's"),
		b.Reject(pkt, "err.pkt.labeled_to_unlabeled", lbl, none(), "labeled packet, receiver has no label"),
		b.Reject(pkt, "err.pkt.unlabeled_to_labeled", pingB, withLabel(none(), "lbl"), "unlabeled packet, receiver has a label"),
		b.Reject(pkt, "err.pkt.label_aad_mismatch", swapped, withLabel(withKeys(Key1), "bbb"), "label is GCM additional data; ciphertext made for another label"),
		b.Reject(str, "err.str.label_len0", append([]byte{vectest.HasLabelMsg, 0}, u5...), none(), "label header with length 0"),
		b.Reject(str, "err.str.label_mismatch", b.stream(u5, vectest.StreamOpts{Label: "lbl"}), withLabel(none(), "other"), "label differs from the receiver's"),
		b.Reject(str, "err.str.label_aad_mismatch", strSwapped, withLabel(withKeys(Key1), "bbb"), "label is part of the GCM additional data"),
	)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
