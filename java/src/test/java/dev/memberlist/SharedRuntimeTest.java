package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Many nodes on one runtime: one loop thread for all their callbacks. */
class SharedRuntimeTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @Test
  void tenNodesOnOneLoop() throws Exception {
    final int n = 10;
    List<Memberlist> nodes = new ArrayList<>();
    SharedRuntime rt = SharedRuntime.create();
    assertThrows(IllegalArgumentException.class, () -> rt.setTimerCoalescing(101));
    assertThrows(IllegalArgumentException.class, () -> rt.setTimerCoalescing(-1));
    rt.setTimerCoalescing(10); // the nodes' timers fire together on a 10 ms grid
    try {
      Set<Thread> threads = ConcurrentHashMap.newKeySet();
      AtomicInteger joins = new AtomicInteger();
      AtomicReference<Memberlist> victim = new AtomicReference<>();
      Queue<Integer> fromCallback = new ConcurrentLinkedQueue<>();
      EventListener l = new EventListener() {
        @Override
        public void notifyJoin(Node node) {
          threads.add(Thread.currentThread());
          joins.incrementAndGet();
          Memberlist v = victim.get();
          if (v != null && fromCallback.isEmpty()) { // another node's close from a notification
            try {
              v.close();
              fromCallback.add(0);
            } catch (MemberlistException e) {
              fromCallback.add(e.code());
            }
          }
        }
      };
      for (int i = 0; i < n; i++) {
        nodes.add(Memberlist.create(fast("shared-" + i, "127.0.0.8" + i).events(l).build(), rt));
      }
      for (int i = 1; i < n; i++) nodes.get(i).join(addr(nodes.get(0)));
      waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == n), () -> "all see " + n);
      waitUntil(WAIT, () -> joins.get() == n * n, () -> "joins " + joins.get());

      // closing the runtime with nodes on it is refused, and it keeps running
      MemberlistException busy = assertThrows(MemberlistException.class, rt::close);
      assertTrue(busy.code() < 0);
      assertEquals(n, nodes.get(0).numMembers());

      // closing another node of the runtime from a notification works (it runs off the loop)
      victim.set(nodes.get(1));
      Memberlist late = Memberlist.create(fast("shared-late", "127.0.0.90").build(), rt);
      nodes.add(late);
      late.join(addr(nodes.get(0)));
      waitUntil(WAIT, () -> !fromCallback.isEmpty(), () -> "callback ran");
      assertEquals(0, fromCallback.peek());
      assertTrue(nodes.get(1).isClosed());
    } finally {
      TestSupport.closeAll(nodes);
      rt.close();
    }
    rt.close(); // idempotent
    assertThrows(MemberlistException.class, () -> rt.setTimerCoalescing(5));
    assertThrows(MemberlistException.class, () -> Memberlist.create(fast("x", "127.0.0.91").build(), rt));
  }
}
