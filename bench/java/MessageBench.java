/*
 * User messages through the Java callback path: node A sends N best-effort messages (UDP) to
 * node B in the same JVM; B's Delegate.notifyMsg (called from the native loop thread through the
 * JNI trampoline) counts them. Prints the delivered rate. Flow control: at most WINDOW messages
 * in flight; if nothing arrives for a second the in-flight ones are counted as lost (UDP) and the
 * run goes on, so the printed numbers always add up to N.
 *
 * Run (after a CMake build of the Java binding and `mvn compile` in java/; see README.md):
 *   java -cp <maven-target>/classes -Djava.library.path=<build>/bindings/swig \
 *        bench/java/MessageBench.java [count=100000] [size=64] [best-effort|address|reliable]
 */
import dev.memberlist.Config;
import dev.memberlist.Delegate;
import dev.memberlist.LogLevel;
import dev.memberlist.Memberlist;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

public final class MessageBench {
  private static final int WINDOW = 256;

  public static void main(String[] args) throws Exception {
    final int count = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    final int size = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    final String mode = args.length > 2 ? args[2] : "best-effort"; // best-effort | address | reliable
    final boolean reliable = mode.equals("reliable");
    final AtomicLong received = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    Delegate counter = new Delegate() {
      @Override
      public void notifyMsg(byte[] msg) {
        received.incrementAndGet();
        bytes.addAndGet(msg.length);
      }
    };
    try (Memberlist b = Memberlist.create(node("bench-rx", "127.0.0.71").delegate(counter).build());
        Memberlist a = Memberlist.create(node("bench-tx", "127.0.0.72").build())) {
      a.join(b.localNode().hostPort());
      final String rx = b.localNode().hostPort();
      byte[] msg = new byte[size];
      long lost = 0;
      long inSend = 0;
      long start = System.nanoTime();
      long lastProgress = start;
      long lastSeen = 0;
      for (int sent = 0; sent < count; ) {
        long inFlight = sent - lost - received.get();
        if (inFlight < WINDOW) {
          msg[0] = (byte) sent;
          long t0 = System.nanoTime();
          if (reliable) a.sendReliable("bench-rx", msg);
          else if (mode.equals("address")) a.sendToAddress(rx, msg);
          else a.sendBestEffort("bench-rx", msg);
          inSend += System.nanoTime() - t0;
          sent++;
          continue;
        }
        long now = System.nanoTime();
        long r = received.get();
        if (r != lastSeen) {
          lastSeen = r;
          lastProgress = now;
        } else if (now - lastProgress > 1_000_000_000L) {
          lost += inFlight; // a second without progress: the rest of the window was dropped
          lastProgress = now;
        } else {
          Thread.onSpinWait();
        }
      }
      // drain
      long drainDeadline = System.nanoTime() + 2_000_000_000L;
      while (received.get() + lost < count && System.nanoTime() < drainDeadline) Thread.sleep(1);
      long end = System.nanoTime();
      lost = count - received.get();
      double secs = (end - start) / 1e9;
      System.out.printf("java.messages %s: %d sent, %d delivered through Delegate.notifyMsg, %d lost, %d bytes each%n",
          reliable ? "reliable (TCP, by name)" : mode.equals("address") ? "best-effort (UDP, to an address)"
              : "best-effort (UDP, by name)", count, received.get(), lost, size);
      System.out.printf("java.messages rate: %.0f msgs/s, %.2f MB/s payload, %.3f s%n",
          received.get() / secs, bytes.get() / secs / 1e6, secs);
      System.out.printf("java.messages sender: %.1f us per send call (%.0f%% of the run in send calls)%n",
          inSend / 1e3 / count, 100.0 * inSend / (end - start));
    }
  }

  private static Config.Builder node(String name, String ip) {
    return Config.local().name(name).bindAddress(ip).bindPort(0).log((l, m) -> {}, LogLevel.ERROR)
        .pushPullInterval(Duration.ZERO);
  }
}
