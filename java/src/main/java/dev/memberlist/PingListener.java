package dev.memberlist;

import java.time.Duration;

/** memberlist's PingDelegate. */
public interface PingListener {
  /** The payload sent with our acks (at most 512 bytes are used). */
  default byte[] ackPayload() {
    return new byte[0];
  }

  /** A probe of {@code other} completed; {@code payload} is its ack payload. */
  default void notifyPingComplete(Node other, Duration rtt, byte[] payload) {}
}
