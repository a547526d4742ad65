//go:build mlreal

package grafana

import "github.com/libmemberlist/interop/mixed/mixtest"

// With -tags mlreal, "ours" is real memberlist too: it checks the scenarios themselves.
var ours = func() mixtest.Impl { i := Impl; i.Kind = "as-ours-grafana-memberlist"; return i }()
