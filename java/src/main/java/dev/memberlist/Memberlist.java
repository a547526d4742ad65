package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * A running node (the C API's ml_memberlist_t), on its own runtime (one loop thread, named
 * "memberlist-loop", a daemon) or on a {@link SharedRuntime}.
 *
 * <p>Thread-safe: every method may be called from any thread, also with a lock held that the
 * listeners take: no call waits for a listener in flight (as in memberlist). Notifications
 * ({@link Delegate#notifyMsg}, {@link EventListener}, {@link ConflictListener},
 * {@link PingListener#notifyPingComplete}) run in order, one at a time for one node, on a
 * notification thread: they may block and may call anything, {@link #close()} included; log
 * lines come the same way on a queue of their own. Listeners that answer (metadata,
 * broadcasts, local/remote state, merge and alive vetoes, the ack payload, the TCP-ping policy)
 * run on the node's loop thread and must not block; from them the calls that wait (join,
 * leave, updateNode, sendReliable, ping) throw {@link MemberlistException} with code
 * {@link MemberlistException#IN_CALLBACK}, while close and shutdown work.
 *
 * <p>{@link #close()} leaves first if {@link Config.Builder#leaveOnClose} asked for it, then shuts
 * the node down and frees it; it is idempotent and may race with itself and with other calls.
 * Every call after close throws {@link MemberlistException} ({@link MemberlistException#CLOSED}).
 * There is no finalizer: a node that is never closed runs until the JVM exits.
 */
public final class Memberlist implements AutoCloseable {
  // The native handle is counted by the calls using it instead of guarded by a lock that close()
  // would have to wait for: close() never waits for a call in flight (a listener may close the
  // node while a join of the same node runs). The handle is destroyed by close(), or by the last
  // call still using it when close() ends.
  private final Object handleLock = new Object();
  private int users; // guarded by handleLock
  private boolean closing; // guarded by handleLock
  private final java.util.concurrent.atomic.AtomicBoolean closeStarted = new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.concurrent.CountDownLatch closeDone = new java.util.concurrent.CountDownLatch(1);
  private volatile boolean closed;
  private final Bridge.Tracker callbacks;
  // Only the close settings: the listeners are held by the native registrations alone (through
  // the bridge), so nothing here keeps them reachable once the node is destroyed.
  private final boolean leaveOnClose;
  private final Duration leaveTimeout;
  private final String name;
  private long handle; // guarded by handleLock; 0 once destroyed

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
        config.tcpPings, config.ping, config.log, config.nodeSelection);
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
      if (config.nodeSelection != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_node_selection(cfg, bridge), "nodeSelection");
      }
      if (config.ping != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_ping(cfg, bridge, 3), "ping");
      }
      if (config.tcpPings != null) {
        MemberlistException.check(MemberlistNative.mljni_config_set_tcp_pings(cfg, bridge), "tcpPings");
      }
      // Without a LogListener the lines go to System.Logger "dev.memberlist": ask the library for
      // the levels that logger has enabled.
      LogLevel logLevel = config.log != null ? config.logLevel : LogLevel.lowestEnabled(Bridge.LOGGER);
      MemberlistException.check(
          MemberlistNative.mljni_config_set_log(cfg, logLevel.ordinal(), bridge), "log");
      long[] out = new long[1];
      byte[] err = new byte[1024];
      long rt = runtime == null ? 0 : runtime.handle();
      MemberlistException.check(MemberlistNative.ml_memberlist_create(out, rt, cfg, err), "create", err);
      return new Memberlist(out[0], bridge.tracker(), config, Config.getNative(cfg, "name"));
    } finally {
      MemberlistNative.ml_config_destroy(cfg);
    }
  }

  /** Runs op on the live handle, holding a use of it; CLOSED once destroyed. */
  <T> T withHandle(LongFunction<T> op) {
    long h;
    synchronized (handleLock) {
      if (handle == 0 || closing) {
        throw new MemberlistException(MemberlistException.CLOSED, "memberlist " + name + " is closed");
      }
      users++;
      h = handle;
    }
    try {
      return op.apply(h);
    } finally {
      long last = 0;
      synchronized (handleLock) {
        users--;
        if (users == 0 && closing && handle != 0) {
          last = handle;
          handle = 0;
        }
      }
      if (last != 0) MemberlistNative.ml_memberlist_destroy(last);
    }
  }

  /** "memberlist NAME: op": every error of a call says which node made it. */
  private String where(String op) {
    return "memberlist " + name + ": " + op;
  }

  /** How an error of a call about another node names it: op to "node". */
  private static String quoted(String s) {
    return s == null ? "null" : '"' + s + '"';
  }

  private void call(String op, LongFunction<Integer> f) {
    withHandle(h -> {
      MemberlistException.check(f.apply(h), where(op));
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
      MemberlistException.check(MemberlistNative.ml_memberlist_join(h, addresses, contacted, err),
          where(addresses == null ? "join" : "join " + String.join(", ", addresses)), err);
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
      MemberlistException.check(f.call(h, out), where(op));
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
    call("sendBestEffort to node " + quoted(node), h -> MemberlistNative.ml_memberlist_send_best_effort(h, node, msg));
  }

  /** A user message over TCP to the member called {@code node}; waits until it is written. */
  public void sendReliable(String node, byte[] msg) {
    call("sendReliable to node " + quoted(node), h -> MemberlistNative.ml_memberlist_send_reliable(h, node, msg));
  }

  /** A best-effort user message to "host:port" (or "name/host:port"). */
  public void sendToAddress(String address, byte[] msg) {
    call("sendToAddress to " + quoted(address), h -> MemberlistNative.ml_memberlist_send_to_address(h, address, msg));
  }

  /**
   * A user message over TCP to "host:port" (or "name/host:port"), member or not, as memberlist's
   * SendReliable dials the node's address; waits until it is written.
   */
  public void sendReliableToAddress(String address, byte[] msg) {
    call("sendReliableToAddress to " + quoted(address),
        h -> MemberlistNative.ml_memberlist_send_reliable_to_address(h, address, msg));
  }

  /** Queues a user broadcast for gossip; {@code name} (may be null) replaces a queued one of that name. */
  public void queueBroadcast(String name, byte[] msg) {
    call("queueBroadcast", h -> MemberlistNative.ml_memberlist_queue_broadcast(h, name, msg));
  }

  /** Pings {@code node} at "host:port" and returns the round trip. */
  public Duration ping(String node, String address) {
    return withHandle(h -> {
      long[] rtt = new long[1];
      MemberlistException.check(MemberlistNative.ml_memberlist_ping(h, node, address, rtt),
          where("ping node " + quoted(node) + " at " + quoted(address)));
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
      MemberlistException.check(MemberlistNative.mljni_metrics(h, out), where("metrics"));
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
   * caller waits until the first has finished (except from a listener, which never waits). It
   * never waits for a listener: it may be called with a lock held that listeners take (a
   * {@code synchronized} listener and a {@code synchronized close()}), and from any listener.
   * A listener call already running may finish after it returns; none starts afterwards.
   */
  @Override
  public void close() {
    if (!closeStarted.compareAndSet(false, true)) {
      if (!callbacks.isCallbackThread()) {
        try {
          closeDone.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return;
    }
    try {
      if (leaveOnClose) {
        try {
          leave(leaveTimeout);
        } catch (MemberlistException e) { // times out, finds the node stopped, or runs on the loop
          Bridge.LOGGER.log(System.Logger.Level.DEBUG, "memberlist " + name + ": leave on close: " + e.getMessage());
        }
      }
      try {
        call("close", MemberlistNative::ml_memberlist_shutdown);
      } catch (MemberlistException e) {
        if (e.code() != MemberlistException.CLOSED) throw e;
      }
      long last = 0;
      synchronized (handleLock) {
        closing = true;
        if (users == 0) {
          last = handle;
          handle = 0;
        }
      }
      // Otherwise the last call still using the handle destroys it when it returns. Either way
      // the registrations' user_free releases the bridge's global references after the last
      // listener call.
      if (last != 0) MemberlistException.check(MemberlistNative.ml_memberlist_destroy(last), "close");
      closed = true;
    } finally {
      closeDone.countDown();
    }
  }

  @Override
  public String toString() {
    return "Memberlist{" + name + (closed ? ", closed" : "") + "}";
  }
}
