package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The TCP-only transport (tcpOnly; docs/transport-tcp.md): three nodes join, carry best-effort
 * messages (one larger than a UDP datagram) and reliable ones, and declare a stopped node dead;
 * the node's port number stays free for UDP.
 */
class TcpOnlyTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
  }

  @Test
  void tcpOnlyClusterWorksWithoutUdp() throws Exception {
    List<ClusterTest.Recorder> recs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ClusterTest.Recorder r = new ClusterTest.Recorder("tcp-" + i);
      recs.add(r);
      nodes.add(Memberlist.create(
          fast(r.name, "127.0.0.6" + i).tcpOnly(true).udpBufferSize(10 << 20).delegate(r).events(r).build()));
    }
    // No UDP socket on the node's port.
    Node self = nodes.get(0).localNode();
    try (DatagramSocket udp = new DatagramSocket(self.port(), InetAddress.getByName("127.0.0.60"))) {
      assertEquals(self.port(), udp.getLocalPort());
    }
    for (int i = 1; i < 3; i++) assertEquals(1, nodes.get(i).join(addr(nodes.get(0))));
    waitUntil(WAIT, () -> nodes.stream().allMatch(m -> m.numMembers() == 3), () -> "all see 3");

    byte[] big = new byte[100_000];
    Arrays.fill(big, (byte) 'x');
    nodes.get(0).sendBestEffort("tcp-1", "be:0->1".getBytes(StandardCharsets.UTF_8));
    nodes.get(0).sendBestEffort("tcp-2", big);
    nodes.get(2).sendReliable("tcp-0", "rl:2->0".getBytes(StandardCharsets.UTF_8));
    String bigText = new String(big, StandardCharsets.UTF_8);
    waitUntil(WAIT, () -> recs.get(1).messages.contains("be:0->1"), () -> "best effort 0->1");
    waitUntil(WAIT, () -> recs.get(2).messages.contains(bigText), () -> "100,000 bytes best effort 0->2");
    waitUntil(WAIT, () -> recs.get(0).messages.contains("rl:2->0"), () -> "reliable 2->0");

    nodes.get(2).shutdown();
    for (int i = 0; i < 2; i++) {
      ClusterTest.Recorder r = recs.get(i);
      waitUntil(WAIT, () -> r.left.get("tcp-2") == NodeState.DEAD, () -> r.name + " sees tcp-2 dead: " + r.left);
    }
  }
}
