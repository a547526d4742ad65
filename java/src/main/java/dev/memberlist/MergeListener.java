package dev.memberlist;

import java.util.List;

/** memberlist's MergeDelegate: may refuse the remote state of a join or push/pull. */
@FunctionalInterface
public interface MergeListener {
  /**
   * Returns null to accept {@code peers}, or the reason to refuse them (reported by the joining
   * side's {@link Memberlist#join}). Throwing refuses too.
   */
  String notifyMerge(List<Node> peers);
}
