package vectest

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestDumpMatchesReadmeExample(t *testing.T) {
	h := &PushPullHeader{Join: true, Nodes: 1, UserStateLen: 4}
	n := &PushNodeState{Name: "node-a", Addr: []byte{10, 0, 0, 1}, Port: 7946, Meta: []byte("meta"), Incarnation: 1,
		Vsn: []byte{1, 5, 2, 0, 0, 0}}
	got := JoinDumps([]string{Dump(h), Dump(n), "userState=" + DumpBytes([]byte("USER"))})
	want := `pushPullHeader{Join=true Nodes=1 UserStateLen=4} ; pushNodeState{Addr=0x0a000001 Incarnation=1 Meta=0x6d657461 Name="node-a" Port=7946 State=0 Vsn=0x010502000000} ; userState=0x55534552`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestDumpScalars(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{&Ping{SeqNo: 7, Node: "n"}, `ping{Node="n" SeqNo=7 SourceAddr=0x SourceNode="" SourcePort=0}`},
		{&ErrResp{Error: `a"b`}, `errResp{Error=x"612262"}`},
		{&ErrResp{Error: `a\b`}, `errResp{Error=x"615c62"}`},
		{&ErrResp{Error: "tab\t"}, `errResp{Error=x"74616209"}`},
		{&ErrResp{Error: "~ ok"}, `errResp{Error="~ ok"}`},
		{&AckResp{SeqNo: 1, Payload: []byte{}}, `ackResp{Payload=0x SeqNo=1}`},
		{&PushNodeState{State: -1}, `pushNodeState{Addr=0x Incarnation=0 Meta=0x Name="" Port=0 State=-1 Vsn=0x}`},
		{&IndirectPingReq{Nack: true}, `indirectPingReq{Nack=true Node="" Port=0 SeqNo=0 SourceAddr=0x SourceNode="" SourcePort=0 Target=0x}`},
		{&User{Msg: []byte{0xff}}, `user{Msg=0xff}`},
	}
	for _, c := range cases {
		if got := Dump(c.v); got != c.want {
			t.Errorf("Dump(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestParamsRoundTrip(t *testing.T) {
	for _, s := range []string{"-", "ints=legacy", "ints=v2,label=6c626c,keys=00|0102,verify_incoming=0,reencode=1,error=1",
		"label=", "keys=000102030405060708090a0b0c0d0e0f"} {
		p, err := ParseParams(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("ParseParams(%q).String() = %q", s, got)
		}
	}
	for _, s := range []string{"", "ints=v3", "label=ZZ", "label=AB", "keys=", "error=0", "foo=1", "ints=v2,ints=v2", "reencode=2"} {
		if _, err := ParseParams(s); err == nil {
			t.Errorf("ParseParams(%q) accepted", s)
		}
	}
	p, _ := ParseParams("label=")
	if !p.HasLabel || len(p.Label) != 0 {
		t.Errorf("label= should be a present, empty label")
	}
}

func TestReadStrict(t *testing.T) {
	good := "# c\n\nn1\tmsg\tints=v2\t0b81a55365714e6f07\tnackResp{SeqNo=7}\n"
	vs, err := Read(strings.NewReader(good))
	if err != nil || len(vs) != 1 || vs[0].Line != 3 || hex.EncodeToString(vs[0].Data) != "0b81a55365714e6f07" {
		t.Fatalf("Read(good) = %+v, %v", vs, err)
	}
	bad := []string{
		"n1\tmsg\t-\t00\n",                       // 4 fields
		"n 1\tmsg\t-\t00\tx\n",                   // bad name
		"n1\tblob\t-\t00\tx\n",                   // bad kind
		"n1\tmsg\t-\t0A\tx\n",                    // uppercase hex
		"n1\tmsg\t-\t0\tx\n",                     // odd hex
		"n1\tmsg\t-\t00\t\n",                     // empty expect
		"n1\tmsg\t-\t00\tx\nn1\tmsg\t-\t00\tx\n", // duplicate
		"n1\tmsg\tbogus=1\t00\tx\n",              // unknown param
		"n1\tmsg\t-\t00\tx\r\n",                  // CRLF
	}
	for _, b := range bad {
		if _, err := Read(strings.NewReader(b)); err == nil {
			t.Errorf("Read(%q) accepted", b)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	w := NewWriter("header")
	p := DefaultParams()
	p.Keys = [][]byte{{1, 2}}
	if err := w.Add(Vector{Name: "a.b", Kind: KindPacket, Params: p, Data: []byte{7}, Expect: "x"}); err != nil {
		t.Fatal(err)
	}
	w.Comment("between")
	if err := w.Add(Vector{Name: "a.b", Kind: KindPacket, Params: p, Data: []byte{7}, Expect: "x"}); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if err := w.Add(Vector{Name: "c", Kind: KindLZW, Params: DefaultParams(), Data: nil, Expect: "tab\there"}); err == nil {
		t.Fatal("TAB in expect accepted")
	}
	vs, err := Read(strings.NewReader(string(w.Bytes())))
	if err != nil || len(vs) != 1 || vs[0].Params.String() != "keys=0102" {
		t.Fatalf("round trip: %+v %v", vs, err)
	}
}

func TestLZWTableResets(t *testing.T) {
	a20, _ := hex.DecodeString("00c3081c48b060c180") // 20 x 'a' (WIRE.md §5.4)
	if n := LZWTableResets(a20); n != 0 {
		t.Errorf("a20: %d resets", n)
	}
	if n := LZWTableResets(a20[:len(a20)-2]); n != -1 {
		t.Errorf("truncated stream: %d, want -1", n)
	}
	if n := LZWTableResets([]byte{0x00, 0x03, 0x02}); n != 0 { // empty input: CLEAR, EOF
		t.Errorf("empty: %d", n)
	}
	if n := LZWTableResets([]byte{0x00, 0xff, 0xff, 0xff}); n != -1 {
		t.Errorf("code above hi accepted: %d", n)
	}
}
