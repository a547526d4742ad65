package dev.memberlist;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one object the native trampolines call (bindings/swig/memberlist.i resolves these methods by
 * name and signature: keep them in step). One per memberlist. Each registration holds a JNI global
 * reference to it, released by the C API's user_free after the last callback, so it — and every
 * listener it holds — stays reachable exactly as long as native code may call it.
 *
 * Every method catches everything its listener throws: nothing propagates into the library.
 */
final class Bridge {
  static final System.Logger LOGGER = System.getLogger("dev.memberlist");

  private final Delegate delegate;
  private final EventListener events;
  private final ConflictListener conflict;
  private final MergeListener merge;
  private final AliveListener alive;
  private final TcpPingPolicy tcpPings;
  private final PingListener ping;
  private final LogListener log;
  private final NodeSelectionListener nodeSelection;
  private volatile String nodeName = "";
  private final Tracker tracker = new Tracker();

  /**
   * Which thread is inside one of the node's callbacks. The Memberlist holds this, not the
   * bridge: the bridge (and so the listeners) is reachable through the native registrations only.
   */
  static final class Tracker {
    // Listener calls of one node run on the loop thread and on notification threads, sometimes
    // at the same time: each thread counts its own nesting.
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    /** Whether the calling thread is inside one of this node's callbacks. */
    boolean isCallbackThread() {
      return depth.get()[0] > 0;
    }
  }

  Bridge(Delegate delegate, EventListener events, ConflictListener conflict, MergeListener merge,
      AliveListener alive, TcpPingPolicy tcpPings, PingListener ping, LogListener log,
      NodeSelectionListener nodeSelection) {
    this.nodeSelection = nodeSelection;
    this.delegate = delegate;
    this.events = events;
    this.conflict = conflict;
    this.merge = merge;
    this.alive = alive;
    this.tcpPings = tcpPings;
    this.ping = ping;
    this.log = log;
  }

  void setNodeName(String name) {
    nodeName = name;
  }

  Tracker tracker() {
    return tracker;
  }

  // Callbacks nest (a callback's call into the library may log through log() on the same
  // thread): a per-thread depth.
  private void enter() {
    tracker.depth.get()[0]++;
  }

  private void exit() {
    tracker.depth.get()[0]--;
  }

  private void failed(String where, Throwable t) {
    StringWriter sw = new StringWriter();
    t.printStackTrace(new PrintWriter(sw));
    String head = "memberlist " + nodeName + ": " + where + " threw (the node keeps running)";
    emitLog(LogLevel.ERROR, head + ": " + sw, head, t);
  }

  /**
   * To the LogListener ({@code text}, with any stack trace in it), else to System.Logger
   * ({@code head} and the throwable apart, so the logging backend formats it).
   */
  private void emitLog(LogLevel level, String text, String head, Throwable t) {
    if (log != null) {
      try {
        log.log(level, text);
        return;
      } catch (Throwable again) { // the log listener itself failed: fall back
        LOGGER.log(System.Logger.Level.ERROR, "memberlist: the log listener threw", again);
      }
    }
    if (t == null) {
      LOGGER.log(level.toSystem(), text);
    } else {
      LOGGER.log(level.toSystem(), head, t);
    }
  }

  // ---- called from native code (see memberlist.i) ----

  byte[] nodeMeta(int limit) {
    enter();
    try {
      return delegate.nodeMeta(limit);
    } catch (Throwable t) {
      failed("Delegate.nodeMeta", t);
      return null;
    } finally {
      exit();
    }
  }

  void notifyMsg(byte[] msg) {
    enter();
    try {
      delegate.notifyMsg(msg);
    } catch (Throwable t) {
      failed("Delegate.notifyMsg", t);
    } finally {
      exit();
    }
  }

  byte[][] getBroadcasts(int overhead, int limit) {
    enter();
    try {
      List<byte[]> l = delegate.getBroadcasts(overhead, limit);
      return l == null || l.isEmpty() ? null : l.toArray(new byte[0][]);
    } catch (Throwable t) {
      failed("Delegate.getBroadcasts", t);
      return null;
    } finally {
      exit();
    }
  }

  byte[] localState(boolean join) {
    enter();
    try {
      return delegate.localState(join);
    } catch (Throwable t) {
      failed("Delegate.localState", t);
      return null;
    } finally {
      exit();
    }
  }

  void mergeRemoteState(byte[] buf, boolean join) {
    enter();
    try {
      delegate.mergeRemoteState(buf, join);
    } catch (Throwable t) {
      failed("Delegate.mergeRemoteState", t);
    } finally {
      exit();
    }
  }

  void event(int type, long member) {
    enter();
    try {
      Node n = Node.fromNative(member);
      switch (type) {
        case 0: events.notifyJoin(n); break;
        case 1: events.notifyLeave(n); break;
        default: events.notifyUpdate(n); break;
      }
    } catch (Throwable t) {
      failed("EventListener", t);
    } finally {
      exit();
    }
  }

  void conflict(long existing, long other) {
    enter();
    try {
      conflict.notifyConflict(Node.fromNative(existing), Node.fromNative(other));
    } catch (Throwable t) {
      failed("ConflictListener", t);
    } finally {
      exit();
    }
  }

  String merge(long peers) {
    enter();
    try {
      return merge.notifyMerge(Node.listFromNative(peers));
    } catch (Throwable t) {
      failed("MergeListener", t);
      return "merge listener threw " + t;
    } finally {
      exit();
    }
  }

  /** True = ignore the alive message. */
  boolean alive(long peer) {
    enter();
    try {
      return !alive.notifyAlive(Node.fromNative(peer));
    } catch (Throwable t) {
      failed("AliveListener", t);
      return false;
    } finally {
      exit();
    }
  }

  /** Candidates by identity, else (built on first need) by name; an unknown node is logged. */
  private final class CandidateIndex {
    private final List<Node> nodes;
    private final Map<Node, Integer> byIdentity;
    private Map<String, Integer> byName;

    CandidateIndex(List<Node> nodes) {
      this.nodes = nodes;
      byIdentity = new IdentityHashMap<>(nodes.size() * 2);
      for (int i = 0; i < nodes.size(); i++) byIdentity.put(nodes.get(i), i);
    }

    int of(Node n) {
      if (n == null) return -1;
      Integer i = byIdentity.get(n);
      if (i != null) return i;
      if (byName == null) {
        byName = new HashMap<>(nodes.size() * 2);
        for (int j = 0; j < nodes.size(); j++) byName.put(nodes.get(j).name(), j);
      }
      i = byName.get(n.name());
      if (i != null) return i;
      emitLog(LogLevel.WARN, "memberlist " + nodeName + ": NodeSelectionListener returned node " + n.name()
          + ", which is not a candidate; ignored", null, null);
      return -1;
    }
  }

  /**
   * Marks {@code selected[i] = 1} for the chosen candidates and returns the preferred one's index,
   * or -1. A listener that throws selects every candidate and prefers none.
   */
  long selectNodes(long candidates, byte[] selected) {
    enter();
    try {
      List<Node> nodes = Node.listFromNative(candidates);
      NodeSelectionListener.Selection answer = nodeSelection.selectNodes(Collections.unmodifiableList(nodes));
      if (answer == null) return -1;
      CandidateIndex index = new CandidateIndex(nodes);
      if (answer.selected() != null) {
        for (Node n : answer.selected()) {
          int i = index.of(n);
          if (i >= 0 && i < selected.length) selected[i] = 1;
        }
      }
      return index.of(answer.preferred());
    } catch (Throwable t) {
      failed("NodeSelectionListener", t);
      java.util.Arrays.fill(selected, (byte) 1);
      return -1;
    } finally {
      exit();
    }
  }

  /** True = no TCP fallback ping to {@code node} this time; a policy that throws allows it. */
  boolean disableTcpPings(String node) {
    enter();
    try {
      return tcpPings.disableTcpPings(node);
    } catch (Throwable t) {
      failed("TcpPingPolicy", t);
      return false;
    } finally {
      exit();
    }
  }

  byte[] ackPayload(int limit) {
    enter();
    try {
      return ping.ackPayload();
    } catch (Throwable t) {
      failed("PingListener.ackPayload", t);
      return null;
    } finally {
      exit();
    }
  }

  void pingComplete(long other, long rttNanos, byte[] payload) {
    enter();
    try {
      ping.notifyPingComplete(Node.fromNative(other), Duration.ofNanos(rttNanos), payload);
    } catch (Throwable t) {
      failed("PingListener.notifyPingComplete", t);
    } finally {
      exit();
    }
  }

  void log(int level, String msg) {
    enter();
    try {
      emitLog(LogLevel.fromNative(level), msg, msg, null);
    } catch (Throwable t) { // nothing may escape
    } finally {
      exit();
    }
  }

  /** The native side's last resort: an exception that escaped one of the methods above. */
  static void uncaught(Throwable t) {
    try {
      LOGGER.log(System.Logger.Level.ERROR, "memberlist: exception in a callback (the node keeps running)", t);
    } catch (Throwable ignored) { // nothing may escape
    }
  }
}
