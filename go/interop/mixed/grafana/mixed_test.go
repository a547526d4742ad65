package grafana

import (
	"testing"

	"github.com/libmemberlist/interop/mixed/mixtest"
)

// TestMixedCluster runs libmemberlist and grafana/memberlist nodes in one cluster.
func TestMixedCluster(t *testing.T) { mixtest.Run(t, ours, Impl) }
