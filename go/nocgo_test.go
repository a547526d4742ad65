package memberlist

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuildWithoutCgoSaysWhy builds this package with CGO_ENABLED=0: the build must fail with
// exactly one compiler error, nocgo.go's identifier that says cgo and the C library are needed
// (not "undefined: Keyring" or a list of every type the cgo files define).
func TestBuildWithoutCgoSaysWhy(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command")
		}
	}
	cmd := exec.Command(goBin, "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("CGO_ENABLED=0 go build succeeded; want it to fail:\n%s", out)
	}
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, ".go:") {
			errs = append(errs, l)
		}
	}
	const want = "undefined: libmemberlist_Go_package_needs_cgo_set_CGO_ENABLED_1_and_install_the_C_library"
	if len(errs) != 1 || !strings.HasSuffix(errs[0], want) || !strings.HasPrefix(errs[0], "./nocgo.go:") {
		t.Fatalf("CGO_ENABLED=0 go build: want one error ending %q from nocgo.go, got:\n%s", want, out)
	}
}
