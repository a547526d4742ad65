package dev.memberlist;

import java.util.List;

/**
 * Zone-aware gossip: grafana/memberlist's NodeSelectionDelegate. Narrows the nodes gossip and
 * push/pull targets are drawn from, and may name one to pick first.
 *
 * <p>Called each time this node picks gossip targets (every gossip interval, whether or not there
 * is anything to send) and push/pull targets (every push/pull interval); never for probes, joins
 * or reconnects. {@code candidates} is every node this member knows, itself and suspect, dead and
 * left nodes included. Targets are then drawn at random among the selected nodes the usual rules
 * allow (never this node; alive, suspect or recently dead for gossip; alive for push/pull); the
 * preferred node, when those rules allow it, is always picked first, selected or not.
 *
 * <p>Nodes in the answer are matched to the candidates by identity, else by name; others are
 * ignored. A listener that throws selects every node and prefers none (the failure is logged).
 *
 * <p>Runs on the library's event-loop thread, like {@link AliveListener}: it must be quick (a
 * 1,000-node cluster calls it with 1,000 candidates about 5 times a second) and must not block.
 * From inside it the snapshots work, while join, leave, updateNode, ping and sendReliable throw; a
 * lock it takes must never be held around a call into the library.
 */
@FunctionalInterface
public interface NodeSelectionListener {
  /** The answer: the nodes to draw from, and the node to pick first (or null). */
  record Selection(List<Node> selected, Node preferred) {
    /** Every candidate, none preferred: targets picked as without a listener. */
    public static Selection all(List<Node> candidates) {
      return new Selection(candidates, null);
    }
  }

  Selection selectNodes(List<Node> candidates);
}
