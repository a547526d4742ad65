package dev.memberlist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memberlist.internal.MemberlistNative;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void presetsMirrorMemberlistDefaults() {
    assertEquals("1s", Config.lan().build().get("probe_interval"));
    assertEquals("5s", Config.wan().build().get("probe_interval"));
    assertEquals("200ms", Config.local().build().get("probe_timeout"));
    assertEquals("7946", Config.lan().build().get("bind_port"));
  }

  @Test
  void typedSettersMapToKeys() {
    Config c = Config.lan()
        .name("n1")
        .probeInterval(Duration.ofMillis(1500))
        .gossipNodes(5)
        .enableCompression(false)
        .secretKey(new byte[16])
        .build();
    assertEquals("n1", c.get("name"));
    assertEquals("1.5s", c.get("probe_interval"));
    assertEquals("5", c.get("gossip_nodes"));
    assertEquals("false", c.get("enable_compression"));
    assertEquals("1500ms", c.values().get("probe_interval"));
  }

  /** One typed setter call, the key it must set and the value the library must then print. */
  private record Typed(String key, UnaryOperator<Config.Builder> setter, String printed) {}

  private static Typed typed(String key, UnaryOperator<Config.Builder> setter, String printed) {
    return new Typed(key, setter, printed);
  }

  /** Every typed setter of {@link Config.Builder}, each with a value that differs from the LAN preset's. */
  private static List<Typed> everyTypedSetter() throws Exception {
    List<Typed> t = new ArrayList<>();
    t.add(typed("name", b -> b.name("n1"), "n1"));
    t.add(typed("label", b -> b.label("blue"), "blue"));
    t.add(typed("skip_inbound_label_check", b -> b.skipInboundLabelCheck(true), "true"));
    t.add(typed("bind_addr", b -> b.bindAddress("127.0.0.5"), "127.0.0.5"));
    InetAddress six = InetAddress.getByName("127.0.0.6");
    t.add(typed("bind_addr", b -> b.bindAddress(six), "127.0.0.6"));
    t.add(typed("bind_port", b -> b.bindPort(7001), "7001"));
    t.add(typed("advertise_addr", b -> b.advertiseAddress("10.1.2.3"), "10.1.2.3"));
    t.add(typed("advertise_port", b -> b.advertisePort(7002), "7002"));
    t.add(typed("protocol_version", b -> b.protocolVersion(5), "5"));
    t.add(typed("tcp_timeout", b -> b.tcpTimeout(Duration.ofSeconds(3)), "3s"));
    t.add(typed("indirect_checks", b -> b.indirectChecks(7), "7"));
    t.add(typed("retransmit_mult", b -> b.retransmitMult(9), "9"));
    t.add(typed("suspicion_mult", b -> b.suspicionMult(11), "11"));
    t.add(typed("suspicion_max_timeout_mult", b -> b.suspicionMaxTimeoutMult(13), "13"));
    t.add(typed("push_pull_interval", b -> b.pushPullInterval(Duration.ofSeconds(45)), "45s"));
    t.add(typed("push_pull_nodes", b -> b.pushPullNodes(3), "3"));
    t.add(typed("probe_interval", b -> b.probeInterval(Duration.ofMillis(1500)), "1.5s"));
    t.add(typed("probe_timeout", b -> b.probeTimeout(Duration.ofMillis(250)), "250ms"));
    t.add(typed("disable_tcp_pings", b -> b.disableTcpPings(true), "true"));
    t.add(typed("awareness_max_multiplier", b -> b.awarenessMaxMultiplier(3), "3"));
    t.add(typed("gossip_interval", b -> b.gossipInterval(Duration.ofMillis(150)), "150ms"));
    t.add(typed("gossip_nodes", b -> b.gossipNodes(5), "5"));
    t.add(typed("gossip_to_the_dead_time", b -> b.gossipToTheDeadTime(Duration.ofSeconds(20)), "20s"));
    t.add(typed("gossip_verify_incoming", b -> b.gossipVerifyIncoming(false), "false"));
    t.add(typed("gossip_verify_outgoing", b -> b.gossipVerifyOutgoing(false), "false"));
    t.add(typed("enable_compression", b -> b.enableCompression(false), "false"));
    byte[] key = new byte[16];
    key[0] = 0x1f;
    t.add(typed("secret_key", b -> b.secretKey(key), "1f000000000000000000000000000000"));
    t.add(typed("delegate_protocol_version", b -> b.delegateProtocolVersion(2), "2"));
    t.add(typed("delegate_protocol_min", b -> b.delegateProtocolMin(1), "1"));
    t.add(typed("delegate_protocol_max", b -> b.delegateProtocolMax(4), "4"));
    t.add(typed("dns_config_path", b -> b.dnsConfigPath("/tmp/resolv.conf"), "/tmp/resolv.conf"));
    t.add(typed("handoff_queue_depth", b -> b.handoffQueueDepth(64), "64"));
    t.add(typed("udp_buffer_size", b -> b.udpBufferSize(9000), "9000"));
    t.add(typed("dead_node_reclaim_time", b -> b.deadNodeReclaimTime(Duration.ofMinutes(2)), "2m0s"));
    t.add(typed("require_node_names", b -> b.requireNodeNames(true), "true"));
    t.add(typed("cidrs_allowed", b -> b.cidrsAllowed("10.0.0.0/8,127.0.0.0/8"), "10.0.0.0/8,127.0.0.0/8"));
    t.add(typed("queue_check_interval", b -> b.queueCheckInterval(Duration.ofSeconds(7)), "7s"));
    t.add(typed("lifeguard", b -> b.lifeguard(false), "false"));
    t.add(typed("reconnect_interval", b -> b.reconnectInterval(Duration.ZERO), "0s"));
    t.add(typed("reconnect_timeout", b -> b.reconnectTimeout(Duration.ofHours(2)), "2h0m0s"));
    t.add(typed("max_concurrent_push_pulls", b -> b.maxConcurrentPushPulls(16), "16"));
    t.add(typed("meta_max_size", b -> b.metaMaxSize(1200), "1200"));
    t.add(typed("compression_algorithm", b -> b.compressionAlgorithm(Config.CompressionAlgorithm.SNAPPY), "snappy"));
    t.add(typed("reclaim_name_on_new_address", b -> b.reclaimNameOnNewAddress(true), "true"));
    t.add(typed("tcp_only", b -> b.tcpOnly(true), "true"));
    t.add(typed("max_tcp_packet", b -> b.maxTcpPacket(1_000_000), "1000000"));
    t.add(typed("max_packet_decompressed", b -> b.maxPacketDecompressed(2_000_000), "2000000"));
    t.add(typed("max_stream_decompressed", b -> b.maxStreamDecompressed(3_000_000), "3000000"));
    t.add(typed("max_encrypted_stream", b -> b.maxEncryptedStream(4_000_000), "4000000"));
    t.add(typed("max_stream_bytes", b -> b.maxStreamBytes(5_000_000_000L), "5000000000"));
    t.add(typed("max_push_pull_nodes", b -> b.maxPushPullNodes(1000), "1000"));
    t.add(typed("max_user_state", b -> b.maxUserState(6_000_000), "6000000"));
    t.add(typed("max_user_msg", b -> b.maxUserMsg(7_000_000), "7000000"));
    t.add(typed("max_meta", b -> b.maxMeta(1024), "1024"));
    t.add(typed("max_stream_memory", b -> b.maxStreamMemory(8_000_000), "8000000"));
    return t;
  }

  /** Every key the library takes (ml_config_key_at: its property table, the one source). */
  private static Set<String> libraryKeys() {
    Set<String> keys = new TreeSet<>();
    for (long i = 0; ; i++) {
      String k = MemberlistNative.ml_config_key_at(i);
      if (k == null) return keys;
      keys.add(k);
    }
  }

  @Test
  void everyKeyHasATypedSetter() throws Exception {
    Set<String> covered = new TreeSet<>();
    for (Typed t : everyTypedSetter()) covered.add(t.key());
    Set<String> library = libraryKeys();
    assertTrue(library.size() > 40, "ml_config_key_at listed: " + library);
    assertEquals(library, covered, "the library's keys vs keys with a typed setter in Config.Builder");
  }

  @Test
  void everyTypedSetterReachesTheNativeConfig() throws Exception {
    Config lan = Config.lan().build();
    for (Typed t : everyTypedSetter()) {
      assertNotEquals(t.printed(), lan.get(t.key()), t.key() + ": the case must change the preset's value");
      Config c = t.setter().apply(Config.lan()).build();
      assertEquals(List.of(t.key()), List.copyOf(c.values().keySet()), t.key() + ": the setter sets this key only");
      assertEquals(t.printed(), c.get(t.key()), t.key() + ": value read back from the native config");
    }
  }

  @Test
  void badValueThrowsWithTheLibrarysText() {
    MemberlistException e = assertThrows(MemberlistException.class,
        () -> Config.lan().set("probe_interval", "soon"));
    assertEquals(MemberlistException.BAD_VALUE, e.code());
    assertTrue(e.getMessage().contains("probe_interval"), e.getMessage());
    assertTrue(e.detail().length() > "config probe_interval".length(), "has the C text: " + e.detail());

    MemberlistException k = assertThrows(MemberlistException.class, () -> Config.lan().set("no_such_key", "1"));
    assertEquals(MemberlistException.UNKNOWN_KEY, k.code());

    assertEquals(MemberlistException.BAD_VALUE,
        assertThrows(MemberlistException.class, () -> Config.lan().secretKey(new byte[5])).code());
    assertEquals(MemberlistException.BAD_VALUE,
        assertThrows(MemberlistException.class, () -> Config.lan().probeInterval(Duration.ofSeconds(-1))).code());
  }

  @Test
  void metaMaxSizeOutOfRangeOrTooLargeForAPacketIsRefused() {
    assertEquals(MemberlistException.BAD_VALUE,
        assertThrows(MemberlistException.class, () -> Config.lan().metaMaxSize(65536)).code());
    assertEquals(MemberlistException.BAD_VALUE,
        assertThrows(MemberlistException.class, () -> Config.lan().metaMaxSize(-1)).code());
    Config c = TestSupport.fast("meta", "127.0.0.1").metaMaxSize(60000).build();
    MemberlistException e = assertThrows(MemberlistException.class, c::validate);
    assertEquals(MemberlistException.INVALID_CONFIG, e.code());
    assertTrue(e.getMessage().contains("meta_max_size"), e.getMessage());
    TestSupport.fast("meta", "127.0.0.1").metaMaxSize(1200).build().validate();
  }

  @Test
  void inconsistentConfigIsRefusedAsAWhole() {
    Config c = TestSupport.fast("bad", "127.0.0.1")  // each value is fine alone
        .delegateProtocolMin(3)
        .delegateProtocolMax(2)
        .build();
    MemberlistException e = assertThrows(MemberlistException.class, c::validate);
    assertEquals(MemberlistException.INVALID_CONFIG, e.code());
    MemberlistException e2 = assertThrows(MemberlistException.class, () -> Memberlist.create(c).close());
    assertEquals(MemberlistException.INVALID_CONFIG, e2.code());
  }

  @Test
  void goDurations() {
    assertEquals("0ms", Config.goDuration(Duration.ZERO));
    assertEquals("250us", Config.goDuration(Duration.ofNanos(250_000)));
    assertEquals("7ns", Config.goDuration(Duration.ofNanos(7)));
    assertEquals("90000ms", Config.goDuration(Duration.ofSeconds(90)));
  }
}
