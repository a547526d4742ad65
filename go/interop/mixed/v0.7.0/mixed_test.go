package v070

import (
	"testing"

	"github.com/libmemberlist/interop/mixed/mixtest"
)

// TestMixedCluster runs libmemberlist and memberlist v0.7.0 nodes in one cluster.
func TestMixedCluster(t *testing.T) { mixtest.Run(t, ours, Impl) }
