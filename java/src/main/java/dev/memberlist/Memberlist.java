package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongFunction;

/**
 * A running node (the C API's ml_memberlist_t), on its own runtime (one loop thread, named
 * "memberlist-loop", a daemon) or on a {@link SharedRuntime}.
 *
 * <p>Thread-safe: every method may be called from any thread. Callbacks run on the node's loop
 * thread, never concurrently for one node; from a callback the calls that wait (join, leave,
 * updateNode, sendReliable, ping, close) throw {@link MemberlistException} with code
 * {@link MemberlistException#IN_CALLBACK}.
 *
 * <p>{@link #close()} leaves first if {@link Config.Builder#leaveOnClose} asked for it, then shuts
 * the node down and frees it; it is idempotent and may race with itself and with other calls.
 * Every call after close throws {@link MemberlistException} ({@link MemberlistException#CLOSED}).
 * There is no finalizer: a node that is never closed runs until the JVM exits.
 */
public final class Memberlist implements AutoCloseable {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ReentrantLock closeLock = new ReentrantLock();
  private volatile boolean closed;
  private final Bridge.Tracker callbacks;
  // Only the close settings: the listeners are held by the native registrations alone (through
  // the bridge), so nothing here keeps them reachable once the node is destroyed.
  private final boolean leaveOnClose;
  private final Duration leaveTimeout;
  private final String name;
  private long handle; // guarded by lock; 0 once destroyed

  private Memberlist(long handle, Bridge.Tracker callbacks, Config config, String name) {
    this.handle = handle;
    this.callbacks = callbacks;
    this.leaveOnClose = config.leaveOnClose;
    this.leaveTimeout = config.leaveTimeout;
    this.name = name;
  }

  /**
   * Creates and starts a node on its own runtime (a loop thread of its own): binds its sockets,
   * becomes alive, starts its timers.
   */
  public static Memberlist create(Config config) {
    return create(config, null);
  }

  /** Creates and starts a node on a shared runtime (null: a private one). */
  public static Memberlist create(Config config, SharedRuntime runtime) {
    NativeLibrary.ensureLoaded();
    Bridge bridge = new Bridge(config.delegate, config.events, config.conflict, config.merge, config.alive,
        config.tcpPings, config.ping, config.log);
    long cfg = config.toNative();
    try {
      bridge.setNodeName(Config.getNative(cfg, "name"));
      if (config.keyring != null) {
        MemberlistException.check(
            MemberlistNative.ml_config_set_keyring(cfg, config.keyring.handleForConfig()), "keyring");
      }
      // Every registration holds the bridge through its own JNI global reference, released by the
      // C API's user_free (at destroy, or right here by ml_config_destroy if create fails).
      if (config.delegate != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_delegate(cfg, bridge, 31), "delegate");
      }
      if (config.events != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_events(cfg, bridge), "events");
      }
      if (config.conflict != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_conflict(cfg, bridge), "conflict");
      }
      if (config.merge != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_merge(cfg, bridge), "merge");
      }
      if (config.alive != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_alive(cfg, bridge), "alive");
      }
      if (config.ping != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_ping(cfg, bridge, 3), "ping");
      }
      if (config.tcpPings != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_tcp_pings(cfg, bridge), "tcpPings");
      }
      MemberlistException.check(
          MemberlistNative.mljni_config_set_log(cfg, config.logLevel.ordinal(), bridge), "log");
      long[] out = new long[1];
      byte[] err = new byte[1024];
      long rt = runtime == null ? 0 : runtime.handle();
      MemberlistException.check(MemberlistNative.ml_memberlist_create(out, rt, cfg, err), "create", err);
      return new Memberlist(out[0], bridge.tracker(), config, Config.getNative(cfg, "name"));
    } finally {
      MemberlistNative.ml_config_destroy(cfg);
    }
  }

  /** Runs op on the live handle under the read lock; CLOSED once destroyed. */
  <T> T withHandle(LongFunction<T> op) {
    lock.readLock().lock();
    try {
      if (handle == 0) throw new MemberlistException(MemberlistException.CLOSED, "memberlist " + name + " is closed");
      return op.apply(handle);
    } finally {
      lock.readLock().unlock();
    }
  }

  private void call(String op, LongFunction<Integer> f) {
    withHandle(h -> {
      MemberlistException.check(f.apply(h), op);
      return null;
    });
  }

  /** This node's name. */
  public String name() {
    return name;
  }

  /**
   * Joins through the given addresses ("host", "host:port", "name/host:port"), waiting for each
   * push/pull. Returns how many succeeded; throws JOIN_FAILED (with every failure) if none did.
   */
  public int join(String... addresses) {
    return withHandle(h -> {
      int[] contacted = new int[1];
      byte[] err = new byte[2048];
      MemberlistException.check(MemberlistNative.ml_memberlist_join(h, addresses, contacted, err), "join", err);
      return contacted[0];
    });
  }

  /** Gossips our leave and waits up to {@code timeout} (zero = no limit) for it to spread. */
  public void leave(Duration timeout) {
    call("leave", h -> MemberlistNative.ml_memberlist_leave(h, timeout.toMillis()));
  }

  /**
   * Stops the node without leaving (closes its sockets and timers; the others will detect it as
   * failed). Snapshots (members, localNode, metrics) keep working until {@link #close()}.
   */
  public void shutdown() {
    if (callbacks.isCallbackThread()) {
      throw new MemberlistException(MemberlistException.IN_CALLBACK, "shutdown from the node's own callback");
    }
    call("shutdown", MemberlistNative::ml_memberlist_shutdown);
  }

  /** A snapshot of the members this node knows (itself included, dead ones while remembered). */
  public List<Node> members() {
    return snapshot("members", MemberlistNative::ml_memberlist_members);
  }

  /** This node as the others see it (the bound port with bind_port 0). */
  public Node localNode() {
    return snapshot("local", MemberlistNative::ml_memberlist_local).get(0);
  }

  private interface ListCall {
    int call(long h, long[] out);
  }

  private List<Node> snapshot(String op, ListCall f) {
    return withHandle(h -> {
      long[] out = new long[1];
      MemberlistException.check(f.call(h, out), op);
      try {
        return Node.listFromNative(out[0]);
      } finally {
        MemberlistNative.ml_members_destroy(out[0]);
      }
    });
  }

  /** The number of members that are alive or suspect (memberlist's NumMembers). */
  public int numMembers() {
    return withHandle(MemberlistNative::ml_memberlist_num_members);
  }

  /** Lifeguard's awareness score: 0 is healthy, higher is worse. */
  public int healthScore() {
    return withHandle(MemberlistNative::ml_memberlist_health_score);
  }

  /** Re-reads {@link Delegate#nodeMeta} and gossips it; waits up to {@code timeout} (zero = no limit). */
  public void updateNode(Duration timeout) {
    call("updateNode", h -> MemberlistNative.ml_memberlist_update_node(h, timeout.toMillis()));
  }

  /** A user message over UDP to the member called {@code node}. */
  public void sendBestEffort(String node, byte[] msg) {
    call("sendBestEffort", h -> MemberlistNative.ml_memberlist_send_best_effort(h, node, msg));
  }

  /** A user message over TCP to the member called {@code node}; waits until it is written. */
  public void sendReliable(String node, byte[] msg) {
    call("sendReliable", h -> MemberlistNative.ml_memberlist_send_reliable(h, node, msg));
  }

  /** A best-effort user message to "host:port". */
  public void sendToAddress(String address, byte[] msg) {
    call("sendToAddress", h -> MemberlistNative.ml_memberlist_send_to_address(h, address, msg));
  }

  /** Queues a user broadcast for gossip; {@code name} (may be null) replaces a queued one of that name. */
  public void queueBroadcast(String name, byte[] msg) {
    call("queueBroadcast", h -> MemberlistNative.ml_memberlist_queue_broadcast(h, name, msg));
  }

  /** Pings {@code node} at "host:port" and returns the round trip. */
  public Duration ping(String node, String address) {
    return withHandle(h -> {
      long[] rtt = new long[1];
      MemberlistException.check(MemberlistNative.ml_memberlist_ping(h, node, address, rtt), "ping");
      return Duration.ofNanos(rtt[0]);
    });
  }

  /** The node's keyring, shared live (borrowed: usable until this memberlist is closed). */
  public Keyring keyring() {
    return withHandle(h -> Keyring.borrowed(MemberlistNative.ml_memberlist_keyring(h), this));
  }

  /** memberlist's counters by name ("memberlist.udp.sent", ...). */
  public Map<String, Double> metrics() {
    return withHandle(h -> {
      Object[] out = new Object[1];
      MemberlistException.check(MemberlistNative.mljni_metrics(h, out), "metrics");
      Map<String, Double> m = new LinkedHashMap<>();
      for (String line : ((String) out[0]).split("\n")) {
        int tab = line.indexOf('\t');
        if (tab > 0) m.put(line.substring(0, tab), Double.parseDouble(line.substring(tab + 1)));
      }
      return Collections.unmodifiableMap(m);
    });
  }

  /** Whether the node has been closed. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Leaves if configured to, shuts down and frees the node. Idempotent and thread-safe: a second
   * caller waits until the first has finished. Not from the node's own callbacks (IN_CALLBACK).
   */
  @Override
  public void close() {
    if (callbacks.isCallbackThread()) {
      throw new MemberlistException(MemberlistException.IN_CALLBACK, "close from the node's own callback");
    }
    closeLock.lock();
    try {
      if (closed) return;
      if (leaveOnClose) {
        try {
          leave(leaveTimeout);
        } catch (MemberlistException e) { // a leave that times out or finds the node stopped: go on
          Bridge.LOGGER.log(System.Logger.Level.DEBUG, "memberlist " + name + ": leave on close: " + e.getMessage());
        }
      }
      long h;
      lock.readLock().lock();
      try {
        h = handle;
      } finally {
        lock.readLock().unlock();
      }
      // After this returns no callback runs again and calls in flight fail fast with CLOSED, so
      // the write lock below is never held while the loop might wait for a Java caller.
      int rc = MemberlistNative.ml_memberlist_shutdown(h);
      if (rc == MemberlistException.IN_CALLBACK) { // on a loop thread (e.g. from the log listener)
        throw new MemberlistException(rc, "close from a callback on the node's loop thread");
      }
      lock.writeLock().lock();
      try {
        MemberlistException.check(MemberlistNative.ml_memberlist_destroy(handle), "close");
        handle = 0; // the registrations' user_free released the bridge's global references
        closed = true;
      } finally {
        lock.writeLock().unlock();
      }
    } finally {
      closeLock.unlock();
    }
  }

  @Override
  public String toString() {
    return "Memberlist{" + name + (closed ? ", closed" : "") + "}";
  }
}
