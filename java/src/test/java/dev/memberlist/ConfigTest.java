package dev.memberlist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
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
