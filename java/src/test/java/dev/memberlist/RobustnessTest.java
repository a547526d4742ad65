package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Misbehaving callbacks, garbage collection, close races, use after close. */
class RobustnessTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
  }

  private Memberlist start(Config c) {
    Memberlist m = Memberlist.create(c);
    nodes.add(m);
    return m;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Resends a best-effort message until {@code got} passes {@code target}. */
  private static void deliver(Memberlist from, String to, AtomicInteger got, int target) {
    waitUntil(WAIT, () -> {
      from.sendBestEffort(to, utf8("ping"));
      return got.get() >= target;
    }, () -> to + " got " + got.get() + " of " + target);
  }

  @Test
  void throwingCallbacksAreLoggedAndTheNodeKeepsRunning() {
    Queue<String> log = new ConcurrentLinkedQueue<>();
    AtomicInteger msgs = new AtomicInteger();
    Delegate thrower = new Delegate() {
      @Override
      public byte[] nodeMeta(int limit) {
        throw new IllegalStateException("boom in nodeMeta");
      }

      @Override
      public void notifyMsg(byte[] msg) {
        msgs.incrementAndGet();
        throw new RuntimeException("boom in notifyMsg");
      }

      @Override
      public List<byte[]> getBroadcasts(int overhead, int limit) {
        throw new OutOfMemoryError("pretend"); // an Error, not only exceptions
      }
    };
    EventListener badEvents = new EventListener() {
      @Override
      public void notifyJoin(Node node) {
        throw new AssertionError("boom in notifyJoin");
      }
    };
    Memberlist a = start(fast("thrower", "127.0.0.31").delegate(thrower).events(badEvents)
        .log((level, m) -> log.add(level + " " + m), LogLevel.WARN).build());
    Memberlist b = start(fast("peer", "127.0.0.32").build());
    assertEquals(1, b.join(addr(a)));
    waitUntil(WAIT, () -> a.numMembers() == 2 && b.numMembers() == 2, () -> "joined");
    deliver(b, "thrower", msgs, 3);
    waitUntil(WAIT, () -> log.stream().anyMatch(l -> l.contains("boom in notifyMsg")), () -> "logged: " + log);
    waitUntil(WAIT, () -> log.stream().anyMatch(l -> l.contains("boom in notifyJoin")), () -> "logged: " + log);
    assertTrue(log.stream().anyMatch(l -> l.startsWith("ERROR") && l.contains("Delegate.notifyMsg threw")), log.toString());
    // still alive and answering
    assertEquals(2, a.members().size());
    assertTrue(a.ping("peer", addr(b)).toNanos() > 0);
  }

  /** A listener referenced only by the native side survives GC; once closed it is collectable. */
  @Test
  void droppedListenerSurvivesGcAndIsReleasedAtClose() {
    AtomicInteger got = new AtomicInteger();
    Memberlist receiver = start(fast("gc-receiver", "127.0.0.33").delegate(newCountingDelegate(got)).build());
    WeakReference<Delegate> weak = new WeakReference<>(lastDelegate.getAndSet(null));
    Memberlist sender = start(fast("gc-sender", "127.0.0.34").build());
    sender.join(addr(receiver));
    waitUntil(WAIT, () -> receiver.numMembers() == 2, () -> "joined");

    // garbage and GCs while messages flow through the listener
    int target = 0;
    for (int round = 0; round < 10; round++) {
      List<byte[]> garbage = new ArrayList<>();
      for (int i = 0; i < 2000; i++) garbage.add(new byte[1024]);
      garbage.clear();
      System.gc();
      target += 20;
      deliver(sender, "gc-receiver", got, target);
    }
    assertNotNull(weak.get(), "the native registration keeps the listener reachable");

    receiver.close();
    waitUntil(WAIT, () -> {
      System.gc();
      return weak.get() == null;
    }, () -> "the listener is collectable once its node is closed (user_free released it)");
    assertNull(weak.get());
  }

  private final AtomicReference<Delegate> lastDelegate = new AtomicReference<>();

  private Delegate newCountingDelegate(AtomicInteger got) {
    Delegate d = new Delegate() {
      @Override
      public void notifyMsg(byte[] msg) {
        got.incrementAndGet();
      }
    };
    lastDelegate.set(d);
    return d;
  }

  @Test
  void closeFromTwoThreadsAtOnce() throws Exception {
    for (int round = 0; round < 5; round++) {
      Memberlist a = Memberlist.create(fast("race-" + round, "127.0.0.35").leaveOnClose(round % 2 == 0)
          .leaveTimeout(Duration.ofMillis(200)).build());
      nodes.add(a);
      CyclicBarrier barrier = new CyclicBarrier(3);
      List<Throwable> errors = new ConcurrentLinkedQueue<Throwable>().stream().collect(
          java.util.stream.Collectors.toCollection(java.util.concurrent.CopyOnWriteArrayList::new));
      Runnable closer = () -> {
        try {
          barrier.await();
          a.close();
        } catch (Throwable t) {
          errors.add(t);
        }
      };
      Thread t1 = new Thread(closer);
      Thread t2 = new Thread(closer);
      Thread t3 = new Thread(() -> { // and a caller racing with both
        try {
          barrier.await();
          for (int i = 0; i < 200; i++) {
            try {
              a.members();
              a.sendToAddress("127.0.0.1:9", utf8("x"));
            } catch (MemberlistException e) {
              if (e.code() != MemberlistException.CLOSED) throw e;
            }
          }
        } catch (Throwable t) {
          errors.add(t);
        }
      });
      t1.start();
      t2.start();
      t3.start();
      t1.join(WAIT.toMillis());
      t2.join(WAIT.toMillis());
      t3.join(WAIT.toMillis());
      assertTrue(!t1.isAlive() && !t2.isAlive() && !t3.isAlive(), "threads finished");
      assertEquals(List.of(), errors);
      assertTrue(a.isClosed());
    }
  }

  /** Library threads (here the notification thread of the join event) are attached as daemons while they run and detached when they end. */
  @Test
  void loopThreadIsDetachedWhenItEnds() {
    AtomicReference<Thread> loop = new AtomicReference<>();
    EventListener l = new EventListener() {
      @Override
      public void notifyJoin(Node node) {
        loop.set(Thread.currentThread());
      }
    };
    Memberlist a = Memberlist.create(fast("detach-a", "127.0.0.42").events(l).build());
    nodes.add(a);
    waitUntil(WAIT, () -> loop.get() != null, () -> "own join event");
    Thread t = loop.get();
    assertTrue(t.isDaemon() && t.isAlive() && t.getName().startsWith("memberlist-notify"), t.toString());
    assertTrue(Thread.getAllStackTraces().containsKey(t), "attached: the JVM lists it");
    a.close();
    waitUntil(WAIT, () -> !t.isAlive(), () -> "the notification thread detached when it ended");
    assertTrue(!Thread.getAllStackTraces().containsKey(t));
  }

  private static Config.Builder localTimers(String name, String ip) {
    // No Lifeguard stretch of the suspicion timeout: alone with the watcher, the dead node has no
    // one to confirm it, and the local profile's 6x maximum would be 18 s.
    return Config.local().log(TestSupport.QUIET, LogLevel.WARN).name(name).bindAddress(ip).bindPort(0)
        .suspicionMaxTimeoutMult(1);
  }

  @Test
  void closeLeavesOnlyWhenAsked() {
    java.util.Map<String, NodeState> left = new java.util.concurrent.ConcurrentHashMap<>();
    EventListener l = new EventListener() {
      @Override
      public void notifyLeave(Node node) {
        left.put(node.name(), node.state());
      }
    };
    // The local profile's failure detector (1 s probes), not fast(): with 50 ms probe timeouts a
    // loaded machine can have the watcher declare the polite node dead in the moment between its
    // leave and the leave message's arrival. A leave that never arrives still fails the test.
    Memberlist watcher = start(localTimers("close-watcher", "127.0.0.39").events(l).build());
    Memberlist polite = Memberlist.create(localTimers("close-polite", "127.0.0.40").leaveOnClose(true).build());
    Memberlist abrupt = Memberlist.create(localTimers("close-abrupt", "127.0.0.41").build());
    nodes.add(polite);
    nodes.add(abrupt);
    polite.join(addr(watcher));
    abrupt.join(addr(watcher));
    waitUntil(WAIT, () -> watcher.numMembers() == 3, () -> "joined");
    polite.close();
    abrupt.close();
    waitUntil(WAIT, () -> left.get("close-polite") == NodeState.LEFT, () -> "polite left: " + left);
    waitUntil(WAIT, () -> left.get("close-abrupt") == NodeState.DEAD, () -> "abrupt dead: " + left);
  }

  @Test
  void callsAfterCloseThrowClosed() {
    Memberlist a = start(fast("after-close", "127.0.0.36").build());
    Keyring kr = a.keyring();
    a.close();
    a.close(); // idempotent
    List<Runnable> calls = List.of(
        () -> a.join("127.0.0.1:1"),
        () -> a.leave(Duration.ofMillis(10)),
        a::shutdown,
        a::members,
        a::localNode,
        a::numMembers,
        a::healthScore,
        () -> a.updateNode(Duration.ZERO),
        () -> a.sendBestEffort("x", utf8("x")),
        () -> a.sendReliable("x", utf8("x")),
        () -> a.sendToAddress("127.0.0.1:1", utf8("x")),
        () -> a.queueBroadcast(null, utf8("x")),
        () -> a.ping("x", "127.0.0.1:1"),
        a::keyring,
        a::metrics,
        kr::keys);
    for (Runnable r : calls) {
      MemberlistException e = assertThrows(MemberlistException.class, r::run);
      assertEquals(MemberlistException.CLOSED, e.code(), e.getMessage());
    }
  }

  // A notification runs off the loop (memberlist's handler goroutine): it may make blocking
  // calls and close its own node.
  @Test
  void notificationsMayCallEverythingAndCloseTheirNode() {
    AtomicReference<Memberlist> self = new AtomicReference<>();
    Queue<Integer> codes = new ConcurrentLinkedQueue<>();
    AtomicInteger events = new AtomicInteger();
    EventListener l = new EventListener() {
      @Override
      public void notifyJoin(Node node) {
        Memberlist m = self.get();
        if (m == null || node.name().equals(m.name()) || events.get() > 0) return;
        m.members(); // snapshots
        for (Runnable r : List.<Runnable>of(() -> m.join("127.0.0.1:1"), () -> m.leave(Duration.ofMillis(10)),
            m::close)) {
          try {
            r.run();
            codes.add(0);
          } catch (MemberlistException e) {
            codes.add(e.code());
          }
        }
        events.incrementAndGet();
      }
    };
    Memberlist a = start(fast("cb-self", "127.0.0.37").events(l).build());
    self.set(a);
    Memberlist b = start(fast("cb-peer", "127.0.0.38").build());
    b.join(addr(a));
    waitUntil(WAIT, () -> events.get() >= 1, () -> "join event");
    assertTrue(!codes.contains(MemberlistException.IN_CALLBACK), "codes " + codes);
    assertEquals(0, new ArrayList<>(codes).get(2), "close from the listener");
    assertTrue(a.isClosed());
    assertThrows(MemberlistException.class, a::numMembers);
  }
}
