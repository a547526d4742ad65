package interop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/libmemberlist/interop/v070/mlnode"
	"github.com/libmemberlist/interop/v070/mlwire"
	"github.com/libmemberlist/interop/vectest/vtest"
)

var codec = mlwire.Codec{}

// TestOursVectors: memberlist v0.7.0 decodes every vector our encoder wrote (and rejects the
// error=1 ones); msg vectors with a matching ints style re-encode byte for byte.
func TestOursVectors(t *testing.T) { vtest.Ours(t, codec) }

// TestOursIntoLiveNode feeds suitable vectors of ML_OURS_VECTORS into real v0.7.0 nodes.
func TestOursIntoLiveNode(t *testing.T) { vtest.OursLive(t, codec, mlnode.Factory, 40) }

// TestCommittedVectors checks every committed vector file (both Go versions' files and
// golden.tsv when present) against memberlist v0.7.0.
func TestCommittedVectors(t *testing.T) {
	for _, name := range []string{"go-v0.1.5.tsv", "go-v0.7.0.tsv", "golden.tsv"} {
		path := filepath.Join(vtest.VectorsDir, name)
		if _, err := os.Stat(path); err != nil {
			if name == "golden.tsv" {
				t.Logf("%s not present yet", path)
				continue
			}
			t.Fatalf("%s: %v", path, err)
		}
		minChecked := 50
		if name == "golden.tsv" {
			minChecked = 10 // hand-written, small
		}
		t.Run(name, func(t *testing.T) { vtest.CheckFile(t, codec, path, minChecked) })
	}
}

// TestCommittedVectorsIntoLiveNode feeds the committed vectors into real v0.7.0 nodes.
func TestCommittedVectorsIntoLiveNode(t *testing.T) {
	for _, name := range []string{"go-v0.1.5.tsv", "go-v0.7.0.tsv"} {
		t.Run(name, func(t *testing.T) {
			vtest.LiveFile(t, codec, mlnode.Factory, filepath.Join(vtest.VectorsDir, name), 40)
		})
	}
}

// TestGeneratedFileUpToDate: the deterministic part of go-v0.7.0.tsv is what the
// generator makes now.
func TestGeneratedFileUpToDate(t *testing.T) {
	vtest.UpToDate(t, codec, filepath.Join(vtest.VectorsDir, "go-v0.7.0.tsv"))
}

// TestRealClusterScenarios runs the generator's cluster scenarios and checks the traffic.
func TestRealClusterScenarios(t *testing.T) { vtest.Scenarios(t, codec, mlnode.Factory) }

// TestChecksCanFail: mutated vectors must be reported (the checks are not vacuous).
func TestChecksCanFail(t *testing.T) {
	vtest.SelfTest(t, codec, filepath.Join(vtest.VectorsDir, "go-v0.7.0.tsv"))
}

// TestLiveChecksCanFail: a live check with a wrong expectation must fail.
func TestLiveChecksCanFail(t *testing.T) {
	vtest.LiveSelfTest(t, codec, mlnode.Factory, filepath.Join(vtest.VectorsDir, "go-v0.7.0.tsv"))
}
