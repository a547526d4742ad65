package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.fast;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Broadcasts, push/pull state, merge/alive/ping/conflict listeners, keyring, metrics. */
class DelegateTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  final List<Memberlist> nodes = new ArrayList<>();
  final List<Keyring> keyrings = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    TestSupport.closeAll(nodes);
    TestSupport.closeAll(keyrings);
  }

  private Memberlist start(Config c) {
    Memberlist m = Memberlist.create(c);
    nodes.add(m);
    return m;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void broadcastsAndPushPullState() {
    Queue<byte[]> toSend = new ConcurrentLinkedQueue<>();
    Set<String> received = ConcurrentHashMap.newKeySet();
    Queue<String> remoteStates = new ConcurrentLinkedQueue<>();
    Delegate a = new Delegate() {
      @Override
      public List<byte[]> getBroadcasts(int overhead, int limit) {
        List<byte[]> out = new ArrayList<>();
        int used = 0;
        for (byte[] b = toSend.peek(); b != null && used + overhead + b.length <= limit; b = toSend.peek()) {
          out.add(toSend.poll());
          used += overhead + b.length;
        }
        return out;
      }

      @Override
      public byte[] localState(boolean join) {
        return utf8("state-of-a join=" + join);
      }
    };
    Delegate b = new Delegate() {
      @Override
      public void notifyMsg(byte[] msg) {
        received.add(str(msg));
      }

      @Override
      public void mergeRemoteState(byte[] buf, boolean join) {
        remoteStates.add(str(buf));
      }
    };
    Memberlist na = start(fast("bc-a", "127.0.0.41").delegate(a).build());
    Memberlist nb = start(fast("bc-b", "127.0.0.42").delegate(b).build());
    assertEquals(1, nb.join(addr(na)));
    // the join's push/pull carried a's local state
    waitUntil(WAIT, () -> remoteStates.contains("state-of-a join=true"), () -> "remote state " + remoteStates);
    // user broadcasts from the delegate, and queued through the API
    toSend.add(utf8("delegate-bcast-1"));
    toSend.add(utf8("delegate-bcast-2"));
    na.queueBroadcast("k", utf8("queued-bcast"));
    waitUntil(WAIT, () -> received.containsAll(Set.of("delegate-bcast-1", "delegate-bcast-2", "queued-bcast")),
        () -> "broadcasts " + received);
  }

  /** As in memberlist, the joining side's merge listener judges the state it is sent. */
  @Test
  void mergeListenerRefusesAJoin() {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    MergeListener picky = peers -> {
      peers.forEach(p -> seen.add(p.name()));
      return peers.stream().anyMatch(p -> p.name().startsWith("merge-bad")) ? "no bad peers please" : null;
    };
    Memberlist bad = start(fast("merge-bad", "127.0.0.43").build());
    Memberlist good = start(fast("merge-good", "127.0.0.45").build());
    Memberlist joiner = start(fast("merge-joiner", "127.0.0.44").merge(picky).build());
    MemberlistException e = assertThrows(MemberlistException.class, () -> joiner.join(addr(bad)));
    assertEquals(MemberlistException.JOIN_FAILED, e.code());
    assertTrue(e.getMessage().contains("no bad peers please"), e.getMessage());
    assertTrue(seen.contains("merge-bad"), seen.toString());
    // (the refused side learnt of us from our push/pull and may still gossip with us, as in memberlist)
    assertEquals(1, joiner.join(addr(good)));
    waitUntil(WAIT, () -> joiner.members().stream().anyMatch(n -> n.name().equals("merge-good")),
        () -> "joined the good one");
  }

  @Test
  void aliveListenerAndPingListener() {
    Set<String> seenAlive = ConcurrentHashMap.newKeySet();
    AliveListener onlyFriends = peer -> {
      seenAlive.add(peer.name());
      return !peer.name().startsWith("stranger");
    };
    Queue<String> pings = new ConcurrentLinkedQueue<>();
    PingListener pl = new PingListener() {
      @Override
      public byte[] ackPayload() {
        return utf8("ack-from-pinger");
      }

      @Override
      public void notifyPingComplete(Node other, Duration rtt, byte[] payload) {
        if (!rtt.isNegative()) pings.add(other.name() + ":" + str(payload));
      }
    };
    PingListener answer = new PingListener() {
      @Override
      public byte[] ackPayload() {
        return utf8("hello-ack");
      }
    };
    Memberlist a = start(fast("alive-a", "127.0.0.46").alive(onlyFriends).ping(pl).build());
    Memberlist friend = start(fast("friend-1", "127.0.0.47").ping(answer).build());
    friend.join(addr(a));
    waitUntil(WAIT, () -> a.numMembers() == 2, () -> "friend joined");
    waitUntil(WAIT, () -> pings.contains("friend-1:hello-ack"), () -> "ping complete with payload " + pings);
    Memberlist stranger = start(fast("stranger-1", "127.0.0.48").build());
    try {
      stranger.join(addr(a));
    } catch (MemberlistException e) { // refusing its alive may or may not fail the join: either is fine
      assertEquals(MemberlistException.JOIN_FAILED, e.code());
    }
    waitUntil(WAIT, () -> seenAlive.contains("stranger-1"), () -> "alive listener consulted " + seenAlive);
    assertTrue(a.members().stream().noneMatch(n -> n.name().equals("stranger-1")), a.members().toString());
  }

  /** DisableTcpPingsForNode is asked about a peer whose direct probe failed: one that stopped. */
  @Test
  void tcpPingPolicyIsAskedAboutAStoppedPeer() {
    ConcurrentHashMap<String, AtomicInteger> asked = new ConcurrentHashMap<>();
    TcpPingPolicy noTcp = node -> {
      asked.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
      return true;
    };
    Memberlist a = start(fast("tcp-a", "127.0.0.64").disableTcpPingsForNode(noTcp).build());
    Memberlist b = start(fast("tcp-b", "127.0.0.65").build());
    b.join(addr(a));
    waitUntil(WAIT, () -> a.numMembers() == 2, () -> "tcp-b joined");
    // A loaded machine may have missed a direct ack already.
    int before = asked.getOrDefault("tcp-b", new AtomicInteger()).get();
    b.shutdown();  // stops without leaving
    waitUntil(WAIT, () -> asked.getOrDefault("tcp-b", new AtomicInteger()).get() > before,
        () -> "policy asked about tcp-b: " + asked);
  }

  @Test
  void conflictListenerSeesTheSameNameElsewhere() {
    Queue<String> conflicts = new ConcurrentLinkedQueue<>();
    Memberlist a = start(fast("dup", "127.0.0.49").build());
    Memberlist watcher = start(fast("watcher", "127.0.0.50")
        .conflict((existing, other) -> conflicts.add(existing.hostPort() + " vs " + other.hostPort())).build());
    watcher.join(addr(a));
    Memberlist dup = start(fast("dup", "127.0.0.51").build());
    try {
      dup.join(addr(watcher));
    } catch (MemberlistException e) {
      assertEquals(MemberlistException.JOIN_FAILED, e.code());
    }
    waitUntil(WAIT, () -> !conflicts.isEmpty(), () -> "conflict reported");
    assertTrue(conflicts.peek().contains("127.0.0.49") && conflicts.peek().contains("127.0.0.51"), conflicts.toString());
  }

  @Test
  void keyringSharedLiveAndEncryptedCluster() {
    byte[] k1 = new byte[16];
    byte[] k2 = new byte[32];
    for (int i = 0; i < k2.length; i++) k2[i] = (byte) (i + 1);
    assertEquals(MemberlistException.KEY,
        assertThrows(MemberlistException.class, () -> Keyring.create(new byte[7])).code());
    Keyring ring = Keyring.create(k1);
    keyrings.add(ring);
    ring.addKey(k2);
    assertEquals(2, ring.keys().size());
    assertArrayEquals(k1, ring.primaryKey());

    Memberlist a = start(fast("enc-a", "127.0.0.52").keyring(ring).build());
    Memberlist b = start(fast("enc-b", "127.0.0.53").secretKey(k1).build());
    Memberlist plain = start(fast("enc-plain", "127.0.0.54").build());
    assertEquals(1, b.join(addr(a)));
    assertThrows(MemberlistException.class, () -> plain.join(addr(a)));

    // the node's live keyring: rotate to k2 on both
    Keyring live = a.keyring();
    assertEquals(2, live.keys().size());
    live.useKey(k2);
    assertArrayEquals(k2, ring.primaryKey(), "the caller's keyring is the node's, shared live");
    b.keyring().addKey(k2);
    b.keyring().useKey(k2);
    b.keyring().removeKey(k1);
    assertEquals(1, b.keyring().keys().size());
    assertEquals(MemberlistException.KEY, assertThrows(MemberlistException.class, () -> live.removeKey(k2)).code());
    live.removeKey(k1);
    Memberlist c = start(fast("enc-c", "127.0.0.55").secretKey(k2).build());
    assertEquals(1, c.join(addr(b)));
    waitUntil(WAIT, () -> a.numMembers() == 3, () -> "three encrypted nodes");
  }

  /** An empty keyring: plaintext until a key is added, then encrypted at once. */
  @Test
  void emptyKeyringTurnsEncryptionOnLater() {
    byte[] k = new byte[16];
    k[0] = 42;
    assertEquals(MemberlistException.INVALID_ARGUMENT,
        assertThrows(MemberlistException.class, () -> Keyring.create(null)).code());
    Keyring ring = Keyring.empty();
    keyrings.add(ring);
    assertEquals(0, ring.keys().size());
    Memberlist a = start(fast("late-a", "127.0.0.66").keyring(ring).build());
    Memberlist before = start(fast("late-plain1", "127.0.0.67").build());
    assertEquals(1, before.join(addr(a)));
    ring.addKey(k);
    Memberlist keyed = start(fast("late-keyed", "127.0.0.68").secretKey(k).build());
    assertEquals(1, keyed.join(addr(a)));
    Memberlist after = start(fast("late-plain2", "127.0.0.69").build());
    assertThrows(MemberlistException.class, () -> after.join(addr(a)));
  }

  @Test
  void metricsAndHealth() {
    Memberlist a = start(fast("metrics-a", "127.0.0.56").build());
    Memberlist b = start(fast("metrics-b", "127.0.0.57").build());
    b.join(addr(a));
    waitUntil(WAIT, () -> a.metrics().getOrDefault("memberlist.udp.received", 0.0) > 0, () -> "udp counted");
    assertTrue(a.metrics().containsKey("memberlist.msg.alive"));
    assertEquals(0, a.healthScore());
  }

  @Test
  void unknownTargetsAndTooLargeMeta() {
    Memberlist a = start(fast("errs-a", "127.0.0.58").build());
    assertEquals(MemberlistException.NOT_FOUND,
        assertThrows(MemberlistException.class, () -> a.sendBestEffort("nobody", utf8("x"))).code());
    MemberlistException j = assertThrows(MemberlistException.class, () -> a.join("127.0.0.58:1"));
    assertEquals(MemberlistException.JOIN_FAILED, j.code());
    assertTrue(j.detail().length() > "join".length(), "join failure text: " + j.detail());
    AtomicInteger metaCalls = new AtomicInteger();
    Delegate big = new Delegate() {
      @Override
      public byte[] nodeMeta(int limit) {
        return metaCalls.incrementAndGet() == 1 ? new byte[0] : new byte[limit + 1];
      }
    };
    Memberlist b = start(fast("errs-b", "127.0.0.59").delegate(big).build());
    assertThrows(MemberlistException.class, () -> b.updateNode(Duration.ofSeconds(2)));
  }
}
