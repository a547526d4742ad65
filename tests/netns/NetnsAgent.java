// A Java memberlist node for the network-namespace tests (tests/netns): binds, joins, prints every
// membership change on stdout in the same format as examples/ml_example.c and logs the library's
// log on stderr; SIGTERM/SIGINT leave and exit. Run with the source launcher:
//   java -cp <maven classes> -Djava.library.path=<dir of libmemberlist_jni.so> NetnsAgent.java \
//        NAME HOST PORT PRESET [JOIN_ADDR...]
import dev.memberlist.Config;
import dev.memberlist.EventListener;
import dev.memberlist.LogLevel;
import dev.memberlist.Memberlist;
import dev.memberlist.Node;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

public final class NetnsAgent {
  private static synchronized void line(String s) {
    System.out.println(s);
    System.out.flush();
  }

  private static String state(Node n) {
    return n.state().toString().toLowerCase();
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: NetnsAgent NAME HOST PORT lan|wan|local [JOIN...]");
      System.exit(2);
    }
    String name = args[0], host = args[1], preset = args[3];
    int port = Integer.parseInt(args[2]);
    Config.Builder b = preset.equals("local") ? Config.local() : preset.equals("wan") ? Config.wan() : Config.lan();
    b.name(name).bindAddress(host).bindPort(port);
    b.events(new EventListener() {
      @Override public void notifyJoin(Node n) { line("JOIN " + n.name() + " " + n.hostPort() + " " + state(n)); }
      @Override public void notifyLeave(Node n) { line("LEAVE " + n.name() + " " + n.hostPort() + " " + state(n)); }
      @Override public void notifyUpdate(Node n) { line("UPDATE " + n.name() + " " + n.hostPort() + " " + state(n)); }
    });
    b.log((level, msg) -> { System.err.println("[" + level + "] " + msg); System.err.flush(); }, LogLevel.INFO);
    b.leaveOnClose(true).leaveTimeout(Duration.ofSeconds(5));
    Memberlist ml = Memberlist.create(b.build());
    line("LISTENING " + name + " " + ml.localNode().hostPort());
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      line("LEAVING on signal");
      ml.close();
      line("STOPPED");
      done.countDown();
    }));
    if (args.length > 4) {
      int n = ml.join(Arrays.copyOfRange(args, 4, args.length));
      line("JOINED " + n);
    }
    done.await();
  }
}
