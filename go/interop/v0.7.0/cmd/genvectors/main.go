// Command genvectors writes tests/vectors/go-v0.7.0.tsv: wire vectors produced by
// hashicorp/memberlist v0.7.0's own functions and by real v0.7.0 nodes.
//
//	cd go/interop/v0.7.0 && go run ./cmd/genvectors -out ../../../tests/vectors/go-v0.7.0.tsv
package main

import (
	"github.com/libmemberlist/interop/v070/mlnode"
	"github.com/libmemberlist/interop/v070/mlwire"
	"github.com/libmemberlist/interop/vectest/gen"
)

func main() {
	gen.Main(mlwire.Codec{}, mlnode.Factory, "go-msgpack/v2 v2.1.5")
}
