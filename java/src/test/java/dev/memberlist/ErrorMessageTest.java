package dev.memberlist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Errors of calls about another node name that node, and the node that made the call. */
class ErrorMessageTest {
  private Memberlist m;

  @BeforeEach
  void start() {
    m = Memberlist.create(TestSupport.fast("errors-a", "127.0.0.1").build());
  }

  @AfterEach
  void stop() throws Exception {
    if (m != null) m.close();
  }

  private static final byte[] MSG = "hi".getBytes(StandardCharsets.UTF_8);

  @Test
  void sendReliableNamesTheMissingNode() {
    MemberlistException e = assertThrows(MemberlistException.class, () -> m.sendReliable("no-such-node", MSG));
    assertEquals(MemberlistException.NOT_FOUND, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("sendReliable to node \"no-such-node\""), e.getMessage());
    assertTrue(e.getMessage().startsWith("memberlist errors-a: "), e.getMessage());
  }

  @Test
  void sendBestEffortNamesTheMissingNode() {
    MemberlistException e = assertThrows(MemberlistException.class, () -> m.sendBestEffort("ghost-7", MSG));
    assertEquals(MemberlistException.NOT_FOUND, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("sendBestEffort to node \"ghost-7\""), e.getMessage());
  }

  @Test
  void sendToAddressNamesTheAddress() {
    MemberlistException e = assertThrows(MemberlistException.class, () -> m.sendToAddress("not an address", MSG));
    assertTrue(e.getMessage().contains("sendToAddress to \"not an address\""), e.getMessage());
  }

  @Test
  void sendReliableToAddressNamesTheAddress() {
    MemberlistException e = assertThrows(MemberlistException.class,
        () -> m.sendReliableToAddress("not an address", MSG));
    assertTrue(e.getMessage().contains("sendReliableToAddress to \"not an address\""), e.getMessage());
  }

  @Test
  void joinNamesTheAddresses() {
    MemberlistException e = assertThrows(MemberlistException.class, () -> m.join("bad::address::x"));
    assertTrue(e.getMessage().contains("memberlist errors-a: join bad::address::x"), e.getMessage());
  }
}
