package dev.memberlist;

/** memberlist's EventDelegate: membership changes, on the loop thread, in order, never concurrently. */
public interface EventListener {
  default void notifyJoin(Node node) {}

  default void notifyLeave(Node node) {}

  default void notifyUpdate(Node node) {}
}
