//go:build !mlreal

package grafana

import oursImpl "github.com/libmemberlist/interop/mixed/mixtest/ours"

var ours = oursImpl.Impl
