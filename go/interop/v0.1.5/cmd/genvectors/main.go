// Command genvectors writes tests/vectors/go-v0.1.5.tsv: wire vectors produced by
// hashicorp/memberlist v0.1.5's own functions and by real v0.1.5 nodes.
//
//	cd go/interop/v0.1.5 && go run ./cmd/genvectors -out ../../../tests/vectors/go-v0.1.5.tsv
package main

import (
	"github.com/libmemberlist/interop/v015/mlnode"
	"github.com/libmemberlist/interop/v015/mlwire"
	"github.com/libmemberlist/interop/vectest/gen"
)

func main() {
	gen.Main(mlwire.Codec{}, mlnode.Factory, "go-msgpack v0.5.3")
}
