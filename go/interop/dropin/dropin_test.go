// Package dropin proves that libmemberlist's Go package is a drop-in replacement for
// github.com/hashicorp/memberlist: app/main.go, written against hashicorp/memberlist only,
// is built unchanged twice, once as this module builds it (the real memberlist v0.7.0) and
// once in a generated module whose go.mod adds one line,
//
//	replace github.com/hashicorp/memberlist => <this repository>/go
//
// and both binaries run the same self-test, and then join each other as two processes.
// The generated module also compiles apicheck/, which names every exported identifier of
// memberlist v0.7.0 with its exact type: our package declares the whole API, not only what
// app/main.go happens to use.
package dropin

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildOurs generates the replace module in a temp dir and builds app/main.go in it.
func buildOurs(t *testing.T, out string) {
	t.Helper()
	ours, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("ML_GO_PACKAGE_DIR"); d != "" {
		ours = d
	}
	dir := t.TempDir()
	gomod := "module example.com/dropin\n\ngo 1.25.0\n\nrequire github.com/hashicorp/memberlist v0.7.0\n\n" +
		"replace github.com/hashicorp/memberlist => " + ours + "\n"
	write(t, filepath.Join(dir, "go.mod"), []byte(gomod))
	src := read(t, filepath.Join("app", "main.go"))
	write(t, filepath.Join(dir, "main.go"), src) // unchanged, byte for byte
	// apicheck names every exported identifier of memberlist v0.7.0 with its exact type.
	if err := os.Mkdir(filepath.Join(dir, "apicheck"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "apicheck", "apicheck.go"), read(t, filepath.Join("apicheck", "apicheck.go")))
	// go.sum: ours' dependencies; `go mod tidy` completes it from the module cache or proxy.
	sum := append(read(t, "go.sum"), readOptional(filepath.Join(ours, "go.sum"))...)
	write(t, filepath.Join(dir, "go.sum"), sum)
	env := append(os.Environ(), "GOFLAGS=-mod=mod")
	goCmd(t, dir, env, "mod", "tidy")
	goCmd(t, dir, env, "build", "./apicheck") // the whole API, with exact types
	goCmd(t, dir, env, "build", "-o", out, ".")

	// The binary really is built on our package.
	info := goCmd(t, dir, env, "version", "-m", out)
	if !strings.Contains(info, "github.com/hashicorp/memberlist") || !strings.Contains(info, "=>\t"+ours) {
		t.Fatalf("%s is not built with the replace:\n%s", out, info)
	}
	if got := read(t, filepath.Join(dir, "main.go")); string(got) != string(src) {
		t.Fatal("main.go changed")
	}
}

func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readOptional(p string) []byte { b, _ := os.ReadFile(p); return b }

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// proc runs a binary in its own process group; the group is killed when the test ends.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
	out   strings.Builder
}

func run(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1024), done: make(chan error, 1)}
	scanned := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.out.WriteString(sc.Text() + "\n")
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(scanned)
	}()
	go func() { <-scanned; p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	return p
}

// wait waits for the process to exit 0 and print PASS.
func (p *proc) wait(t *testing.T, what string, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil || !strings.HasSuffix(p.out.String(), "PASS\n") {
			t.Fatalf("%s: %v\n%s", what, err, p.out.String())
		}
		t.Logf("%s:\n%s", what, p.out.String())
	case <-time.After(timeout):
		t.Fatalf("%s: still running after %v", what, timeout)
	}
}

// TestAPICheckUpToDate: apicheck/apicheck.go is what internal/apigen makes from the
// memberlist version go.mod requires.
func TestAPICheckUpToDate(t *testing.T) {
	got := goCmd(t, ".", os.Environ(), "run", "./internal/apigen")
	if want := string(read(t, filepath.Join("apicheck", "apicheck.go"))); got != want {
		t.Fatal("apicheck/apicheck.go is stale: go run ./internal/apigen > apicheck/apicheck.go")
	}
}

func TestDropIn(t *testing.T) {
	bins := t.TempDir()
	real, ours := filepath.Join(bins, "app-hashicorp"), filepath.Join(bins, "app-libmemberlist")
	goCmd(t, ".", os.Environ(), "build", "-o", real, "./app")
	buildOurs(t, ours)

	for _, c := range []struct{ name, bin string }{{"hashicorp", real}, {"libmemberlist", ours}} {
		t.Run("selftest/"+c.name, func(t *testing.T) {
			run(t, c.bin, "selftest").wait(t, c.name+" selftest", 90*time.Second)
		})
	}
	for _, c := range []struct{ name, seed, joiner string }{
		{"hashicorp-seed", real, ours},
		{"libmemberlist-seed", ours, real},
	} {
		t.Run("peers/"+c.name, func(t *testing.T) {
			seed := run(t, c.seed, "peer", "-name", "seed")
			var addr string
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for addr == "" {
				select {
				case l := <-seed.lines:
					if a, ok := strings.CutPrefix(l, "ready "); ok {
						addr = a
					}
				case err := <-seed.done:
					t.Fatalf("seed exited: %v\n%s", err, seed.out.String())
				case <-ctx.Done():
					t.Fatal("seed never printed its address")
				}
			}
			joiner := run(t, c.joiner, "peer", "-name", "joiner", "-join", addr)
			joiner.wait(t, fmt.Sprintf("joiner (%s)", filepath.Base(c.joiner)), 60*time.Second)
			seed.wait(t, fmt.Sprintf("seed (%s)", filepath.Base(c.seed)), 60*time.Second)
		})
	}
}
