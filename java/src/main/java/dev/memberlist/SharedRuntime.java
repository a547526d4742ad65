package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;

/**
 * One event loop on one thread (the C API's ml_runtime_t) shared by many memberlists: how many
 * nodes run in one process without a thread each. Callbacks of every node on it run on its one
 * loop thread; from any of them the calls that wait (join, leave, close, ...) on any node of the
 * runtime throw IN_CALLBACK.
 *
 * <p>Close it after every memberlist on it is closed; before that, close throws
 * {@link MemberlistException} and leaves the runtime running. Thread-safe; no finalizer.
 */
public final class SharedRuntime implements AutoCloseable {
  private long handle; // guarded by this

  private SharedRuntime(long h) {
    handle = h;
  }

  /** Starts a runtime (its loop thread). */
  public static SharedRuntime create() {
    NativeLibrary.ensureLoaded();
    long[] out = new long[1];
    byte[] err = new byte[512];
    MemberlistException.check(MemberlistNative.ml_runtime_create(out, err), "runtime create", err);
    return new SharedRuntime(out[0]);
  }

  /**
   * Timer coalescing: the protocol timers of every memberlist on this runtime fire on a shared
   * grid of {@code ms} milliseconds (never early, at most {@code ms} late), so hundreds of nodes'
   * probes and gossip rounds wake the loop thread together instead of one at a time. 0 (the
   * default) fires each timer at its own millisecond.
   *
   * @param ms 0 to 100
   * @return this runtime
   * @throws IllegalArgumentException if ms is outside 0..100
   * @throws MemberlistException if the runtime is closed
   */
  public synchronized SharedRuntime setTimerCoalescing(int ms) {
    if (ms < 0 || ms > 100) {
      throw new IllegalArgumentException("timer coalescing must be 0 to 100 ms, not " + ms);
    }
    MemberlistException.check(MemberlistNative.ml_runtime_set_timer_coalescing(handle(), ms),
        "runtime timer coalescing");
    return this;
  }

  synchronized long handle() {
    if (handle == 0) throw new MemberlistException(MemberlistException.CLOSED, "runtime closed");
    return handle;
  }

  /** Stops the loop and joins its thread. Idempotent. */
  @Override
  public synchronized void close() {
    if (handle == 0) return;
    MemberlistException.check(MemberlistNative.ml_runtime_destroy(handle),
        "runtime close (every memberlist on it must be closed first)");
    handle = 0;
  }
}
