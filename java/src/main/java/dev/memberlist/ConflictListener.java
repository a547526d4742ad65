package dev.memberlist;

/** memberlist's ConflictDelegate: a node with our name or another member's name at another address. */
@FunctionalInterface
public interface ConflictListener {
  void notifyConflict(Node existing, Node other);
}
