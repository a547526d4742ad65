package dev.memberlist;

/** memberlist's AliveDelegate: may ignore alive messages about a peer. */
@FunctionalInterface
public interface AliveListener {
  /** Returns true to accept the alive message about {@code peer}, false to ignore it. */
  boolean notifyAlive(Node peer);
}
