package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Five nodes in one JVM: join, metadata, messages both ways, failure and leave detection. */
class ClusterTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();

  /** One node's listeners, recording everything and checking the threading rules. */
  static final class Recorder implements Delegate, EventListener {
    final String name;
    volatile byte[] meta;
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger overlaps = new AtomicInteger();
    final AtomicInteger calls = new AtomicInteger();
    final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    final Set<String> wrongThread = ConcurrentHashMap.newKeySet();
    final Map<String, NodeState> left = new ConcurrentHashMap<>();
    final Map<String, Node> joined = new ConcurrentHashMap<>();
    final Map<String, byte[]> updatedMeta = new ConcurrentHashMap<>();
    final Set<String> messages = ConcurrentHashMap.newKeySet();

    Recorder(String name) {
      this.name = name;
      this.meta = ("meta-of-" + name).getBytes(StandardCharsets.UTF_8);
    }

    // Notifications (notifyMsg, events) never overlap each other; nodeMeta answers on the loop
    // and may run beside one, as in memberlist.
    private void enter(boolean notification) {
      calls.incrementAndGet();
      if (notification && active.incrementAndGet() != 1) overlaps.incrementAndGet();
      Thread t = Thread.currentThread();
      threads.add(t);
      if (!t.isDaemon() || !t.getName().startsWith("memberlist-")) wrongThread.add(t.getName());
      Thread.yield(); // widen the window an overlap would need
    }

    private void exit(boolean notification) {
      if (notification) active.decrementAndGet();
    }

    @Override
    public byte[] nodeMeta(int limit) {
      enter(false);
      try {
        return meta;
      } finally {
        exit(false);
      }
    }

    @Override
    public void notifyMsg(byte[] msg) {
      enter(true);
      try {
        messages.add(new String(msg, StandardCharsets.UTF_8));
      } finally {
        exit(true);
      }
    }

    @Override
    public void notifyJoin(Node node) {
      enter(true);
      try {
        joined.put(node.name(), node);
        left.remove(node.name());
      } finally {
        exit(true);
      }
    }

    @Override
    public void notifyLeave(Node node) {
      enter(true);
      try {
        left.put(node.name(), node.state());
      } finally {
        exit(true);
      }
    }

    @Override
    public void notifyUpdate(Node node) {
      enter(true);
      try {
        updatedMeta.put(node.name(), node.meta());
      } finally {
        exit(true);
      }
    }
  }

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
  }

  @Test
  void fiveNodeCluster() throws Exception {
    final int n = 5;
    List<Recorder> rec = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Recorder r = new Recorder("node-" + i);
      rec.add(r);
      nodes.add(Memberlist.create(fast(r.name, "127.0.0.2" + i).delegate(r).events(r).build()));
    }
    // join: everyone through node-0
    for (int i = 1; i < n; i++) assertEquals(1, nodes.get(i).join(addr(nodes.get(0))));
    waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == n), () -> "all see " + n);
    for (Recorder r : rec) waitUntil(WAIT, () -> r.joined.size() == n, () -> r.name + " joins " + r.joined.keySet());

    // metadata: the initial one everywhere, and the bound address/port
    for (Memberlist m : nodes) {
      for (Node x : m.members()) {
        assertArrayEquals(("meta-of-" + x.name()).getBytes(StandardCharsets.UTF_8), x.meta(), x.toString());
        assertEquals(NodeState.ALIVE, x.state());
        assertTrue(x.port() > 0);
      }
    }
    Node local2 = nodes.get(2).localNode();
    assertEquals("node-2", local2.name());
    assertEquals("127.0.0.22", local2.address().getHostAddress());
    Node seen2 = rec.get(0).joined.get("node-2");
    assertEquals(local2.hostPort(), seen2.hostPort());
    assertEquals(local2.protocolCurrent(), seen2.protocolCurrent());
    assertTrue(seen2.protocolMin() <= seen2.protocolCurrent() && seen2.protocolCurrent() <= seen2.protocolMax(),
        seen2.toString());

    // metadata update propagates as an update event
    rec.get(3).meta = "new-meta".getBytes(StandardCharsets.UTF_8);
    nodes.get(3).updateNode(Duration.ofSeconds(5));
    for (int i = 0; i < n; i++) {
      if (i == 3) continue;
      Recorder r = rec.get(i);
      waitUntil(WAIT, () -> r.updatedMeta.containsKey("node-3")
          && new String(r.updatedMeta.get("node-3"), StandardCharsets.UTF_8).equals("new-meta"),
          () -> r.name + " sees node-3's new meta");
    }

    // user messages both ways, best effort and reliable
    nodes.get(1).sendReliable("node-4", "rl:1->4".getBytes(StandardCharsets.UTF_8));
    nodes.get(4).sendReliable("node-1", "rl:4->1".getBytes(StandardCharsets.UTF_8));
    waitUntil(WAIT, () -> rec.get(4).messages.contains("rl:1->4"), () -> "reliable 1->4");
    waitUntil(WAIT, () -> rec.get(1).messages.contains("rl:4->1"), () -> "reliable 4->1");
    nodes.get(2).sendReliableToAddress(nodes.get(3).localNode().hostPort(), "rl:2->3".getBytes(StandardCharsets.UTF_8));
    waitUntil(WAIT, () -> rec.get(3).messages.contains("rl:2->3"), () -> "reliable to an address 2->3");
    // best effort (UDP may drop): resend until it arrives
    waitUntil(WAIT, () -> {
      nodes.get(0).sendBestEffort("node-2", "be:0->2".getBytes(StandardCharsets.UTF_8));
      nodes.get(2).sendBestEffort("node-0", "be:2->0".getBytes(StandardCharsets.UTF_8));
      return rec.get(2).messages.contains("be:0->2") && rec.get(0).messages.contains("be:2->0");
    }, () -> "best effort 0<->2");

    // a killed node (shutdown without leave) is detected as dead
    Memberlist killed = nodes.get(4);
    killed.shutdown();
    for (int i = 0; i < 4; i++) {
      Recorder r = rec.get(i);
      waitUntil(WAIT, () -> r.left.get("node-4") == NodeState.DEAD, () -> r.name + " sees node-4 dead: " + r.left);
    }
    // a shut-down node still answers snapshots until closed; then every call throws CLOSED
    assertEquals("node-4", killed.localNode().name());

    // a leaving node is seen as left
    nodes.get(3).leave(Duration.ofSeconds(5));
    for (int i = 0; i < 3; i++) {
      Recorder r = rec.get(i);
      waitUntil(WAIT, () -> r.left.get("node-3") == NodeState.LEFT, () -> r.name + " sees node-3 left: " + r.left);
    }
    waitUntil(WAIT, () -> nodes.get(0).numMembers() == 3, () -> "node-0 counts 3");

    // callbacks: on the library's daemon threads (the loop, notification threads); notifications
    // of one node never concurrent
    for (Recorder r : rec) {
      assertTrue(r.calls.get() > 0, r.name);
      assertEquals(0, r.overlaps.get(), r.name + " had concurrent callbacks");
      assertEquals(Set.of(), r.wrongThread, r.name + " called back on the wrong thread");
    }
  }

  /** A Snappy node and an LZW node form one cluster; streams and packets both ways arrive. */
  @Test
  void snappyAndLzwNodesInOneCluster() throws Exception {
    Recorder snappy = new Recorder("snappy");
    Recorder lzw = new Recorder("lzw");
    nodes.add(Memberlist.create(fast(snappy.name, "127.0.0.31").delegate(snappy).events(snappy)
        .compressionAlgorithm(Config.CompressionAlgorithm.SNAPPY).build()));
    nodes.add(Memberlist.create(fast(lzw.name, "127.0.0.32").delegate(lzw).events(lzw).build()));
    assertEquals(1, nodes.get(1).join(addr(nodes.get(0))));
    waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == 2), () -> "both see 2");
    String big = "compressible ".repeat(100);
    nodes.get(0).sendReliable("lzw", ("s->l " + big).getBytes(StandardCharsets.UTF_8));
    nodes.get(1).sendReliable("snappy", ("l->s " + big).getBytes(StandardCharsets.UTF_8));
    waitUntil(WAIT, () -> lzw.messages.contains("s->l " + big), () -> "reliable snappy->lzw");
    waitUntil(WAIT, () -> snappy.messages.contains("l->s " + big), () -> "reliable lzw->snappy");
    waitUntil(WAIT, () -> {
      nodes.get(0).sendBestEffort("lzw", ("be " + big).getBytes(StandardCharsets.UTF_8));
      return lzw.messages.contains("be " + big);
    }, () -> "best effort snappy->lzw");
  }
}
