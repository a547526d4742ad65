package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The consumer pattern: a component whose listeners are {@code synchronized} and whose own
 * {@code synchronized} methods call into the node, close() included, while a listener waits for
 * the monitor under traffic. Nothing may deadlock, and the address is free again at once.
 */
class ConsumerLockTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  static final class Component implements Delegate, EventListener {
    final AtomicInteger attempts = new AtomicInteger(); // listener calls that reached for the monitor
    final AtomicInteger acquired = new AtomicInteger(); // ... and got it
    int msgs, events; // guarded by this

    private void enter() {
      attempts.incrementAndGet();
    }

    @Override
    public void notifyMsg(byte[] msg) {
      enter();
      synchronized (this) {
        acquired.incrementAndGet();
        msgs++;
      }
    }

    @Override
    public void notifyJoin(Node node) {
      enter();
      synchronized (this) {
        acquired.incrementAndGet();
        events++;
      }
    }

    @Override
    public void notifyLeave(Node node) {
      enter();
      synchronized (this) {
        acquired.incrementAndGet();
        events++;
      }
    }

    /** Holds the monitor until a listener waits for it, then uses and closes the node. */
    synchronized void stop(Memberlist m, String peer) throws InterruptedException {
      // Holding the monitor, `acquired` cannot grow: more attempts mean a listener waits for it.
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (attempts.get() <= acquired.get()) {
        if (System.nanoTime() - deadline > 0) fail("no listener call waits for the monitor");
        Thread.sleep(1);
      }
      assertEquals(2, m.numMembers());
      assertEquals(2, m.members().size());
      m.updateNode(Duration.ofSeconds(1));
      m.sendReliable(peer, "reliable".getBytes(StandardCharsets.UTF_8));
      m.close();
    }
  }

  @Test
  void synchronizedListenersAndSynchronizedClose() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    AtomicBoolean stop = new AtomicBoolean();
    try (Memberlist sender = Memberlist.create(fast("lock-sender", "127.0.0.61").build())) {
      Future<?> traffic = pool.submit(() -> {
        while (!stop.get()) {
          try {
            sender.sendBestEffort("lock-node", "x".getBytes(StandardCharsets.UTF_8));
          } catch (MemberlistException e) {
            // not a member at this moment (between rounds)
          }
          try {
            Thread.sleep(1); // pacing of the traffic, not a wait for a condition
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      int port = 0;
      for (int round = 0; round < 6; round++) {
        Component c = new Component();
        Memberlist m = Memberlist.create(
            fast("lock-node", "127.0.0.62").bindPort(port).delegate(c).events(c).build());
        port = m.localNode().port();
        m.join(addr(sender));
        Future<?> stopped = pool.submit(() -> {
          c.stop(m, "lock-sender");
          return null;
        });
        try {
          stopped.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          fail("round " + round + ": a synchronized close deadlocked against a synchronized listener");
        }
        assertTrue(m.isClosed());
        assertFalse(Thread.holdsLock(c));
      }
      stop.set(true);
      traffic.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }
}
