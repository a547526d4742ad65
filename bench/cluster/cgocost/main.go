// cgocost measures what a libuv timer callback that calls into Go costs, per call and in CPU,
// three ways: the event loop on its own C thread calling a C function (cthread: the floor), the
// same loop calling an exported Go function (thread: libmemberlist's loop threads before
// 2026-12-07), and the loop driven from a goroutine parked in Go's netpoller on the loop's fd,
// the callback entering Go from that goroutine's own thread (netpoll: the Go package's default
// since then). N loops, each with one repeating timer; CPU is getrusage over 10 s.
//
//	cd bench/cluster && go run ./cgocost            # 128 loops, a 59 ms timer (~2,170 calls/s)
//	go run ./cgocost -loops 2 -period 1             # two busy loops (a shared runtime's shape)
//
// Results on the benchmark machine are in docs/bench/cluster.md, "What a call from C into Go costs".
package main

/*
#cgo pkg-config: libuv
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

extern void goTick(uintptr_t idx);

static atomic_long ticks;
typedef struct {
  uv_loop_t loop;
  uv_timer_t timer;
  pthread_t tid;
  uintptr_t idx;
  int into_go;
} cc_loop;

static void on_timer(uv_timer_t *t) {
  cc_loop *l = t->data;
  atomic_fetch_add(&ticks, 1);
  if (l->into_go) goTick(l->idx);
}
static cc_loop *cc_new(uintptr_t idx, int period_ms, int into_go) {
  cc_loop *l = calloc(1, sizeof *l);
  l->idx = idx;
  l->into_go = into_go;
  uv_loop_init(&l->loop);
  uv_timer_init(&l->loop, &l->timer);
  l->timer.data = l;
  uv_timer_start(&l->timer, on_timer, 1 + idx % (unsigned)period_ms, (uint64_t)period_ms);
  return l;
}
static void *cc_thread_main(void *p) { uv_run(&((cc_loop *)p)->loop, UV_RUN_DEFAULT); return NULL; }
static void cc_start_thread(cc_loop *l) { pthread_create(&l->tid, NULL, cc_thread_main, l); }
static int cc_fd(cc_loop *l) { return uv_backend_fd(&l->loop); }
// One non-blocking pass; the milliseconds until the next timer.
static int cc_drive(cc_loop *l) { uv_run(&l->loop, UV_RUN_NOWAIT); return uv_backend_timeout(&l->loop); }
static int cc_readable(int fd) { struct pollfd p = {fd, POLLIN, 0}; return poll(&p, 1, 0) > 0; }
static long cc_ticks(void) { return atomic_load(&ticks); }
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

var inGo atomic.Int64

//export goTick
func goTick(C.uintptr_t) { inGo.Add(1) }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// drive runs l's loop from this goroutine, parked in the netpoller between passes.
func drive(l *C.cc_loop) {
	fd, err := syscall.Dup(int(C.cc_fd(l)))
	if err != nil {
		panic(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		panic(err)
	}
	f := os.NewFile(uintptr(fd), "uv")
	rc, err := f.SyscallConn()
	if err != nil {
		panic(err)
	}
	for {
		next := int(C.cc_drive(l))
		if next == 0 {
			continue
		}
		if next > 0 {
			_ = f.SetReadDeadline(time.Now().Add(time.Duration(next) * time.Millisecond))
		} else {
			_ = f.SetReadDeadline(time.Time{})
		}
		waited := false
		_ = rc.Read(func(fd uintptr) bool {
			if waited {
				return true
			}
			waited = true
			return C.cc_readable(C.int(fd)) != 0
		})
	}
}

func main() {
	loops := flag.Int("loops", 128, "event loops")
	period := flag.Int("period", 59, "timer period, ms")
	window := flag.Duration("window", 10*time.Second, "measured window")
	flag.Parse()
	// Each mode runs in a child process, so the threads of one do not linger into the next.
	if m := os.Getenv("CGOCOST_MODE"); m != "" {
		run(m, *loops, *period, *window)
		return
	}
	for _, mode := range []string{"cthread", "thread", "netpoll"} {
		exe, _ := os.Executable()
		p, err := os.StartProcess(exe, os.Args, &os.ProcAttr{
			Env:   append(os.Environ(), "CGOCOST_MODE="+mode),
			Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		})
		if err != nil {
			panic(err)
		}
		if _, err := p.Wait(); err != nil {
			panic(err)
		}
	}
}

func run(mode string, loops, period int, window time.Duration) {
	for i := 0; i < loops; i++ {
		l := C.cc_new(C.uintptr_t(i), C.int(period), map[bool]C.int{true: 1}[mode != "cthread"])
		if mode == "netpoll" {
			go drive(l)
		} else {
			C.cc_start_thread(l)
		}
	}
	time.Sleep(2 * time.Second) // let every loop reach its steady rhythm
	c0, t0, n0 := cpuSeconds(), time.Now(), int64(C.cc_ticks())
	time.Sleep(window)
	c1, n1 := cpuSeconds(), int64(C.cc_ticks())
	el := time.Since(t0).Seconds()
	calls := float64(n1-n0) / el
	fmt.Printf("%-8s loops=%d period=%dms calls/s=%.0f cpu=%.4f cores  %.1f us per call\n",
		mode, loops, period, calls, (c1-c0)/el, (c1-c0)/el/calls*1e6)
}
