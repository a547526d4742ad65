package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Name reuse with a new address (Config.Builder.reclaimNameOnNewAddress): a node that dies
 * without a word and is back at once under its name on another IP is taken there by the nodes
 * that still held it alive (their ping to the old address goes unanswered), with a leave for the
 * old incarnation, a join for the new and no conflict. Without the option the same restart is a
 * conflict and the name stays at the old address.
 */
class NameReuseTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();

  /** Events about node-2 ("join 127.0.0.42", "leave 127.0.0.42") and conflicts. */
  static final class Watch implements EventListener, ConflictListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicInteger conflicts = new AtomicInteger();

    private void record(String what, Node n) {
      if (n.name().equals("node-2")) events.add(what + " " + n.address().getHostAddress());
    }

    @Override
    public void notifyJoin(Node n) { record("join", n); }

    @Override
    public void notifyLeave(Node n) { record("leave", n); }

    @Override
    public void notifyConflict(Node existing, Node other) { conflicts.incrementAndGet(); }
  }

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
  }

  static boolean holds(Memberlist m, String name, String ip) {
    for (Node n : m.members()) {
      if (n.name().equals(name)) return n.address().getHostAddress().equals(ip) && n.state() == NodeState.ALIVE;
    }
    return false;
  }

  /** Three nodes, node-2 killed and restarted at once on 127.0.0.49; returns the watchers. */
  private Watch[] restartElsewhere(boolean reclaim, String net) {
    Watch[] w = {new Watch(), new Watch()};
    for (int i = 0; i < 3; i++) {
      Config.Builder b = fast("node-" + i, net + (i + 1)).reclaimNameOnNewAddress(reclaim);
      if (i < 2) b.events(w[i]).conflict(w[i]);
      nodes.add(Memberlist.create(b.build()));
      if (i > 0) assertEquals(1, nodes.get(i).join(addr(nodes.get(0))));
    }
    waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == 3), () -> "all see 3");
    nodes.get(2).close(); // no leave: a crash, as far as the others can tell
    nodes.add(Memberlist.create(fast("node-2", net + "9").reclaimNameOnNewAddress(reclaim).build()));
    assertEquals(1, nodes.get(3).join(addr(nodes.get(0))));
    return w;
  }

  @Test
  void restartedNodeIsTakenAtItsNewAddress() {
    Watch[] w = restartElsewhere(true, "127.0.0.4");
    for (int i = 0; i < 2; i++) {
      Memberlist m = nodes.get(i);
      waitUntil(WAIT, () -> holds(m, "node-2", "127.0.0.49"), () -> m.name() + " holds " + m.members());
      assertEquals(3, m.numMembers());
      // events are delivered after the state changed (their own queue): wait for them too
      List<String> want = List.of("join 127.0.0.43", "leave 127.0.0.43", "join 127.0.0.49");
      Watch wi = w[i];
      waitUntil(WAIT, () -> wi.events.equals(want), () -> m.name() + " events " + wi.events);
      assertEquals(0, w[i].conflicts.get());
      assertTrue(m.metrics().get("memberlist.name_reuse.reclaimed") >= 1, m.metrics().toString());
    }
  }

  @Test
  void withoutTheOptionItIsAConflict() {
    Watch[] w = restartElsewhere(false, "127.0.0.5");
    waitUntil(WAIT, () -> w[0].conflicts.get() > 0, () -> "a conflict on node-0");
    assertTrue(nodes.get(0).members().stream()
        .noneMatch(n -> n.name().equals("node-2") && n.address().getHostAddress().equals("127.0.0.59")));
    assertEquals(0.0, nodes.get(0).metrics().get("memberlist.name_reuse.checks"));
  }
}
