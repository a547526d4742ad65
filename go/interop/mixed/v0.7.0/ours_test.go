//go:build !mlreal

package v070

import oursImpl "github.com/libmemberlist/interop/mixed/mixtest/ours"

var ours = oursImpl.Impl
