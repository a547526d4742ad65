package dev.memberlist;

import java.util.List;

/**
 * memberlist's Delegate. Runs on the node's loop thread, never concurrently for one node; must not
 * block. Byte arrays passed in are the callee's to keep; arrays returned are copied before the
 * call returns to the library. An exception thrown here is logged and the node keeps running.
 */
public interface Delegate {
  /** This node's metadata, at most {@code limit} bytes (more is an error the node reports). */
  default byte[] nodeMeta(int limit) {
    return new byte[0];
  }

  /** A user message (sendBestEffort / sendReliable / a gossiped broadcast) arrived. */
  default void notifyMsg(byte[] msg) {}

  /** User broadcasts to piggyback, each costing {@code overhead} bytes, within {@code limit} in total. */
  default List<byte[]> getBroadcasts(int overhead, int limit) {
    return List.of();
  }

  /** The local state sent in a push/pull (null or empty: none). */
  default byte[] localState(boolean join) {
    return null;
  }

  /** The remote side's local state from a push/pull. */
  default void mergeRemoteState(byte[] buf, boolean join) {}
}
