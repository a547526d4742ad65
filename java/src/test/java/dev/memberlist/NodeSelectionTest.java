package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Zone-aware gossip (grafana/memberlist's NodeSelectionDelegate) through the facade: node 0's
 * listener routes its gossip. Probes and push/pull are off, so gossip alone can carry node 0's
 * metadata update: selecting nobody sends nothing and loses nothing; a preferred node gets it with
 * nothing selected; a copy of a candidate is matched by name; a listener that throws selects
 * everyone. The listener is held by the bridge for as long as the library may call it.
 */
class NodeSelectionTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
  }

  static final class Meta implements Delegate {
    volatile byte[] meta = new byte[0];

    @Override
    public byte[] nodeMeta(int limit) {
      return meta;
    }
  }

  private static String metaOf(Memberlist m, String name) {
    for (Node n : m.members()) {
      if (n.name().equals(name)) return new String(n.meta(), StandardCharsets.UTF_8);
    }
    return "";
  }

  @Test
  void selectionRoutesGossip() {
    AtomicReference<String> mode = new AtomicReference<>("all");
    AtomicReference<String> target = new AtomicReference<>("");
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger selfSeen = new AtomicInteger();
    NodeSelectionListener listener = candidates -> {
      calls.incrementAndGet();
      Node t = null;
      for (Node n : candidates) {
        if (n.name().equals("sel-0")) selfSeen.incrementAndGet();
        if (n.name().equals(target.get())) t = n;
      }
      switch (mode.get()) {
        case "all":
          return NodeSelectionListener.Selection.all(candidates);
        case "prefer":
          return new NodeSelectionListener.Selection(List.of(), t);
        case "copy": // equal by value, not one of the candidates: matched by name
          return new NodeSelectionListener.Selection(t == null ? List.of() : List.of(copyOf(t)), null);
        case "throw":
          throw new IllegalStateException("selector failure");
        default:
          return new NodeSelectionListener.Selection(List.of(), null);
      }
    };
    List<Meta> metas = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Meta d = new Meta();
      metas.add(d);
      Config.Builder b = fast("sel-" + i, "127.0.0." + (70 + i))
          .probeInterval(Duration.ofHours(1)) // no pings or acks to piggyback on
          .pushPullInterval(Duration.ZERO)
          .retransmitMult(8) // nothing repairs a missed rumor here: send it to everyone
          .pushPullNodes(i)
          .delegate(d);
      if (i == 0) b.nodeSelection(listener);
      Memberlist m = Memberlist.create(b.build());
      nodes.add(m);
      if (i > 0) m.join(addr(nodes.get(0)));
    }
    Memberlist m0 = nodes.get(0), m1 = nodes.get(1), m2 = nodes.get(2);
    waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == 3), () -> "3 members each");
    waitUntil(WAIT, () -> calls.get() > 0 && selfSeen.get() > 0, () -> "the listener to be asked");

    // Nobody selected: 20 more gossip rounds, and nobody hears the update.
    mode.set("none");
    int before = calls.get();
    metas.get(0).meta = "v1".getBytes(StandardCharsets.UTF_8);
    update(m0);
    waitUntil(WAIT, () -> calls.get() >= before + 20, () -> "20 more rounds");
    assertEquals("", metaOf(m1, "sel-0"));
    assertEquals("", metaOf(m2, "sel-0"));

    // Preferred, nothing selected: node 2 gets it, node 1 from node 2.
    target.set("sel-2");
    mode.set("prefer");
    waitUntil(WAIT, () -> metaOf(m1, "sel-0").equals("v1") && metaOf(m2, "sel-0").equals("v1"),
        () -> metaOf(m1, "sel-0") + " " + metaOf(m2, "sel-0"));

    // A copy of node 1's candidate, matched by name.
    target.set("sel-1");
    mode.set("copy");
    metas.get(0).meta = "v2".getBytes(StandardCharsets.UTF_8);
    update(m0);
    waitUntil(WAIT, () -> metaOf(m1, "sel-0").equals("v2"), () -> metaOf(m1, "sel-0"));

    // A listener that throws: logged, everyone selected.
    mode.set("throw");
    metas.get(0).meta = "v3".getBytes(StandardCharsets.UTF_8);
    update(m0);
    waitUntil(WAIT, () -> metaOf(m1, "sel-0").equals("v3") && metaOf(m2, "sel-0").equals("v3"),
        () -> metaOf(m1, "sel-0") + " " + metaOf(m2, "sel-0"));
    assertTrue(TestSupport.LOG.stream().anyMatch(l -> l.contains("NodeSelectionListener threw")), "no log line");
    mode.set("all");
    assertEquals("1", Config.local().pushPullNodes(1).build().get("push_pull_nodes"));
    assertEquals("1", Config.lan().build().get("push_pull_nodes"));
  }

  /** A distinct Node with the same name (the facade matches it by name). */
  private static Node copyOf(Node n) {
    return new Node(n.name(), n.address(), n.port(), n.meta(), n.state(), n.incarnation(), null);
  }

  private static void update(Memberlist m) {
    try {
      m.updateNode(Duration.ofMillis(100)); // waits for the broadcast to go out: may time out
    } catch (MemberlistException e) {
      // a timeout while nothing is selected
    }
  }
}
