package example;

import dev.memberlist.Config;
import dev.memberlist.Memberlist;

/** Creates one node, prints its name and member count, closes it. */
public final class Consumer {
  public static void main(String[] args) {
    String name = args.length > 0 ? args[0] : "consumer";
    try (Memberlist m = Memberlist.create(
        Config.local().name(name).bindAddress("127.0.0.1").bindPort(0).build())) {
      System.out.println("consumer: node " + m.name() + " at " + m.localNode().hostPort()
          + ", members " + m.numMembers());
    }
    System.out.println("consumer: closed");
  }
}
