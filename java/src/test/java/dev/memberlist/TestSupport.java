package dev.memberlist;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Shared by the tests: fast local nodes on 127.0.0.x:0, and waiting on conditions with deadlines. */
final class TestSupport {
  private TestSupport() {}

  /** Log lines of every test node (WARN and up), printed only when a test wants them. */
  static final java.util.Queue<String> LOG = new java.util.concurrent.ConcurrentLinkedQueue<>();

  static final LogListener QUIET = (level, msg) -> {
    LOG.add(level + " " + msg);
    while (LOG.size() > 1000) LOG.poll();
  };

  /** LOCAL preset with fast timers, named {@code name}, bound to {@code ip}:0, logging to LOG. */
  static Config.Builder fast(String name, String ip) {
    return Config.local()
        .log(QUIET, LogLevel.WARN)
        .name(name)
        .bindAddress(ip)
        .bindPort(0)
        .probeInterval(Duration.ofMillis(100))
        .probeTimeout(Duration.ofMillis(50))
        .gossipInterval(Duration.ofMillis(20))
        .suspicionMult(2)
        .pushPullInterval(Duration.ofSeconds(1));
  }

  /** Polls cond every 5 ms until it holds; fails with what() after the deadline. */
  static void waitUntil(Duration timeout, BooleanSupplier cond, Supplier<String> what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) fail("timed out after " + timeout + ": " + what.get());
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }

  /** Closes every node, keeping the first failure. */
  static void closeAll(List<? extends AutoCloseable> nodes) throws Exception {
    Exception first = null;
    for (AutoCloseable n : new ArrayList<>(nodes)) {
      try {
        if (n != null) n.close();
      } catch (Exception e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw first;
  }

  /** "ip:port" of a node, for join. */
  static String addr(Memberlist m) {
    return m.localNode().hostPort();
  }
}
