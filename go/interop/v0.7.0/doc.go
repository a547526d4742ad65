// Package interop holds the wire cross-checks between libmemberlist and hashicorp/memberlist
// v0.7.0. The generator (cmd/genvectors) writes tests/vectors/go-v0.7.0.tsv; the tests here check
// that memberlist v0.7.0's own decoder reads the vectors our C++ encoder writes
// (ML_OURS_VECTORS), the committed vector files, and real in-memory clusters.
package interop
