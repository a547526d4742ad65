// Package vtest holds the test bodies shared by the per-version modules, so each
// version's _test.go only wires in its Codec and node Factory.
package vtest

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/libmemberlist/interop/vectest"
	"github.com/libmemberlist/interop/vectest/cluster"
	"github.com/libmemberlist/interop/vectest/gen"
	"github.com/libmemberlist/interop/vectest/live"
)

// OursEnv names the environment variable with the path of the vector file written by
// our (C++) encoder.
const OursEnv = "ML_OURS_VECTORS"

// VectorsDir is the tests/vectors directory: $ML_VECTORS_DIR (CTest sets it) or its
// path relative to a per-version module directory.
var VectorsDir = func() string {
	if d := os.Getenv("ML_VECTORS_DIR"); d != "" {
		return d
	}
	return "../../../tests/vectors"
}()

// CheckFile runs vectest.Check on every vector of a file, one subtest per vector, and
// logs a summary. minChecked is the least number of vectors that must not be skipped.
func CheckFile(t *testing.T, c vectest.Codec, path string, minChecked int) []vectest.Vector {
	t.Helper()
	vecs, err := vectest.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(vecs) == 0 {
		t.Fatalf("%s holds no vectors", path)
	}
	counts := map[vectest.Outcome]int{}
	reencoded := 0
	skips := map[string]int{}
	for _, v := range vecs {
		v := v
		res := vectest.Check(c, v)
		counts[res.Outcome]++
		if res.Reencoded {
			reencoded++
		}
		t.Run(v.Name, func(t *testing.T) {
			switch res.Outcome {
			case vectest.Fail:
				t.Errorf("%s:%d %s (%s): %s", filepath.Base(path), v.Line, v.Name, v.Kind, res.Msg)
			case vectest.Skip:
				skips[res.Msg]++
				t.Skip(res.Msg)
			}
		})
	}
	var reasons []string
	for r, n := range skips {
		reasons = append(reasons, fmt.Sprintf("%d x %s", n, r))
	}
	sort.Strings(reasons)
	t.Logf("%s against memberlist %s: %d vectors, %d passed (%d re-encoded byte for byte), %d failed, %d skipped",
		path, c.Version(), len(vecs), counts[vectest.Pass], reencoded, counts[vectest.Fail], counts[vectest.Skip])
	for _, r := range reasons {
		t.Logf("  skipped: %s", r)
	}
	if checked := len(vecs) - counts[vectest.Skip]; checked < minChecked {
		t.Errorf("only %d vectors checked, want at least %d", checked, minChecked)
	}
	return vecs
}

// Ours is the reverse-direction test: memberlist's decoder reads what our encoder wrote.
// It skips when ML_OURS_VECTORS is unset.
func Ours(t *testing.T, c vectest.Codec) {
	path := os.Getenv(OursEnv)
	if path == "" {
		t.Skipf("%s is not set: nothing to check (CTest sets it to the C++ encoder's vector file)", OursEnv)
	}
	CheckFile(t, c, path, 1)
}

// OursLive feeds the suitable vectors of ML_OURS_VECTORS into real memberlist nodes.
func OursLive(t *testing.T, c vectest.Codec, factory cluster.Factory, maxPlans int) {
	path := os.Getenv(OursEnv)
	if path == "" {
		t.Skipf("%s is not set: nothing to feed to a live node", OursEnv)
	}
	LiveFile(t, c, factory, path, maxPlans)
}

// LiveFile feeds up to maxPlans suitable vectors of a file into real nodes.
func LiveFile(t *testing.T, c vectest.Codec, factory cluster.Factory, path string, maxPlans int) {
	vecs, err := vectest.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	plans := live.Candidates(c, vecs)
	if len(plans) == 0 {
		t.Skipf("%s has no vectors suitable for a live node", path)
	}
	plans = spread(plans, maxPlans)
	for _, p := range plans {
		p := p
		t.Run(p.Vector.Name, func(t *testing.T) {
			if err := live.Run(c, factory, p); err != nil {
				t.Errorf("%s (%s): %v", p.Vector.Name, p.Vector.Kind, err)
			}
		})
	}
	t.Logf("fed %d vectors of %s into live memberlist %s nodes", len(plans), path, c.Version())
}

// spread keeps at most n plans, taken evenly over the list.
func spread(p []live.Plan, n int) []live.Plan {
	if n <= 0 || len(p) <= n {
		return p
	}
	out := make([]live.Plan, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, p[i*len(p)/n])
	}
	return out
}

// UpToDate checks that the deterministic vectors of the committed file are what the
// generator produces now with this memberlist version (encrypted ones only by params and
// expect, since their nonces are random).
func UpToDate(t *testing.T, c vectest.Codec, path string) {
	committed, err := vectest.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run cmd/genvectors): %v", path, err)
	}
	byName := map[string]vectest.Vector{}
	for _, v := range committed {
		byName[v.Name] = v
	}
	// Generate twice: vectors whose bytes differ between the runs carry random nonces.
	w, w2 := vectest.NewWriter(), vectest.NewWriter()
	if err := gen.Synthetic(&gen.Builder{C: c, W: w}); err != nil {
		t.Fatal(err)
	}
	if err := gen.Synthetic(&gen.Builder{C: c, W: w2}); err != nil {
		t.Fatal(err)
	}
	random := map[string]bool{}
	for i, v := range w2.Vectors() {
		random[v.Name] = string(v.Data) != string(w.Vectors()[i].Data)
	}
	stale := 0
	for _, v := range w.Vectors() {
		old, ok := byName[v.Name]
		switch {
		case !ok:
			t.Errorf("%s: missing from %s", v.Name, path)
		case old.Kind != v.Kind || old.Params.String() != v.Params.String() || old.Expect != v.Expect:
			t.Errorf("%s: kind/params/expect differ from the generator's", v.Name)
		case !random[v.Name] && string(old.Data) != string(v.Data):
			t.Errorf("%s: bytes differ from the generator's", v.Name)
		default:
			continue
		}
		stale++
	}
	if stale > 0 {
		t.Logf("%d vectors are stale; regenerate: cd go/interop/%s && go run ./cmd/genvectors -out %s", stale, c.Version(), path)
	}
}

// Scenarios runs the real-cluster scenarios (as the generator does) and checks that
// they produce decodable traffic of every expected kind.
func Scenarios(t *testing.T, c vectest.Codec, factory cluster.Factory) {
	w := vectest.NewWriter()
	b := &gen.Builder{C: c, W: w}
	var log io.Writer = io.Discard
	if testing.Verbose() && os.Getenv("ML_INTEROP_LOGS") != "" {
		log = os.Stderr
	}
	if err := gen.Traffic(b, factory, log); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range w.Vectors() {
		for _, part := range strings.Split(v.Expect, " ; ") {
			if i := strings.IndexAny(part, "{="); i > 0 {
				seen[part[:i]] = true
			}
		}
		if v.Params.Error {
			seen["rejected"] = true
		}
	}
	want := []string{"ping", "indirectPingReq", "ackResp", "nackResp", "errResp", "suspect", "alive", "dead", "user",
		"pushPullHeader", "pushNodeState", "userState", "rejected"}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("real traffic produced no %s", k)
		}
	}
	t.Logf("real traffic: %v", w.Counts())
}

// SelfTest proves that Check can fail: it mutates vectors of a committed file in ways
// that must be detected (wrong expect, valid input marked error=1, malformed input not
// marked, changed bytes, a non-canonical integer that only the re-encoding notices).
func SelfTest(t *testing.T, c vectest.Codec, path string) {
	vecs, err := vectest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string) vectest.Vector {
		for _, v := range vecs {
			if v.Name == name {
				return v
			}
		}
		t.Fatalf("%s: no vector %s", path, name)
		return vectest.Vector{}
	}
	mustFail := func(what string, v vectest.Vector) {
		t.Helper()
		if r := vectest.Check(c, v); r.Outcome != vectest.Fail {
			t.Errorf("%s: Check returned %s (%s), want a failure", what, r.Outcome, r.Msg)
		}
	}
	mustPass := func(what string, v vectest.Vector) {
		t.Helper()
		if r := vectest.Check(c, v); r.Outcome != vectest.Pass {
			t.Errorf("%s: Check returned %s (%s), want pass", what, r.Outcome, r.Msg)
		}
	}
	for _, name := range []string{"msg.alive.ipv4", "pkt.enc1.third_key", "str.pushpull.nodes_200", "lzw.a20"} {
		v := find(name)
		mustPass(name, v)
		w := v
		w.Expect += "x"
		mustFail(name+" with a wrong expect", w)
		w = v
		w.Params.Error = true
		mustFail(name+" marked error=1", w)
	}
	bad := find("err.pkt.bad_crc")
	mustPass("err.pkt.bad_crc", bad)
	bad.Params.Error = false
	mustFail("err.pkt.bad_crc without error=1", bad)

	// Port 7946 (cd 1f0a) written as uint32 (ce 00001f0a): same dump, different bytes.
	v := find("msg.alive.ipv4")
	v.Params.Ints = c.Ints()
	nonCanon := strings.Replace(hexOf(v.Data), "a4506f7274cd1f0a", "a4506f7274ce00001f0a", 1)
	v.Data = unhex(t, nonCanon)
	mustFail("alive with a non-minimal Port encoding", v)
	v.Params.Reencode = 0
	mustPass("the same without re-encoding", v)

	// One flipped byte inside a string changes the dump.
	v = find("msg.suspect.plain")
	v.Data = append([]byte(nil), v.Data...)
	v.Data[len(v.Data)-1] ^= 0x01
	mustFail("suspect with a changed Node byte", v)

	// A stream's user state cut short must not decode.
	v = find("str.pushpull.join")
	v.Data = v.Data[:len(v.Data)-1]
	mustFail("truncated push/pull", v)
}

// LiveSelfTest proves that live checks can fail: a plan expecting an ack with the wrong
// SeqNo, or a member that is not in the vector, must fail.
func LiveSelfTest(t *testing.T, c vectest.Codec, factory cluster.Factory, path string) {
	vecs, err := vectest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pingPlan, alivePlan *live.Plan
	for _, p := range live.Candidates(c, vecs) {
		p := p
		if pingPlan == nil && len(p.AckSeqs) > 0 && p.Vector.Kind == vectest.KindPacket {
			pingPlan = &p
		}
		if alivePlan == nil && len(p.Members) > 0 && p.Vector.Kind == vectest.KindPacket {
			alivePlan = &p
		}
	}
	if pingPlan == nil || alivePlan == nil {
		t.Fatalf("%s: no ping or alive packet to feed", path)
	}
	if err := live.Run(c, factory, *pingPlan); err != nil {
		t.Fatalf("%s: %v", pingPlan.Vector.Name, err)
	}
	old := live.Wait
	live.Wait = 300 * time.Millisecond
	defer func() { live.Wait = old }()
	p := *pingPlan
	p.AckSeqs = []uint32{p.AckSeqs[0] + 1}
	if err := live.Run(c, factory, p); err == nil {
		t.Errorf("%s: an ack with SeqNo %d was accepted but never sent", p.Vector.Name, p.AckSeqs[0])
	}
	p = *alivePlan
	p.Members = append(append([]string(nil), p.Members...), "no-such-node")
	if err := live.Run(c, factory, p); err == nil {
		t.Errorf("%s: a member that was never announced was accepted", p.Vector.Name)
	}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
