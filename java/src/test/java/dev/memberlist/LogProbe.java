package dev.memberlist;

import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * Run in a child JVM by LoggingTest with CapturingLoggerFinder as the System.LoggerFinder: two
 * nodes without a LogListener, one join (memberlist logs "Initiating push/pull sync" at DEBUG)
 * and a user message to a Delegate that throws (reported at ERROR with the exception). Prints
 * every record the finder captured, one "LOG ..." line each.
 */
public final class LogProbe {
  private LogProbe() {}

  public static void main(String[] args) throws Exception {
    Delegate throwing = new Delegate() {
      @Override public void notifyMsg(byte[] msg) {
        throw new IllegalStateException("probe boom");
      }
    };
    try (Memberlist a = Memberlist.create(Config.local().name("log-a").bindAddress("127.0.0.1").bindPort(0).build());
         Memberlist b = Memberlist.create(Config.local().name("log-b").bindAddress("127.0.0.1").bindPort(0)
             .delegate(throwing).build())) {
      b.join(a.localNode().hostPort());
      a.sendReliable("log-b", "x".getBytes(StandardCharsets.UTF_8));
      boolean debugWanted = System.getProperty("probe.level", "DEBUG").equals("DEBUG");
      waitFor(() -> has("ERROR|memberlist log-b: Delegate.notifyMsg threw")
          && (!debugWanted || has("|memberlist: Initiating push/pull sync with")));
    }
    for (String r : CapturingLoggerFinder.RECORDS) System.out.println("LOG " + r.replace('\n', ' '));
  }

  private static boolean has(String part) {
    return CapturingLoggerFinder.RECORDS.stream().anyMatch(r -> r.contains(part));
  }

  private static void waitFor(BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!cond.getAsBoolean() && System.nanoTime() - deadline < 0) Thread.sleep(5);
  }
}
