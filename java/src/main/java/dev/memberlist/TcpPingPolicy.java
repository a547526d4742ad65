package dev.memberlist;

/**
 * memberlist's {@code Config.DisableTcpPingsForNode}: asked, on the node's loop thread, each time
 * a probe of a node got no direct ack, before the fallback TCP ping.
 */
@FunctionalInterface
public interface TcpPingPolicy {
  /** Returns true for no TCP ping to the node named {@code node} this time. */
  boolean disableTcpPings(String node);
}
