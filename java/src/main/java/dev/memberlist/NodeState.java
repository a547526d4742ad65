package dev.memberlist;

/** A member's state as this node sees it (memberlist's NodeStateType). */
public enum NodeState {
  ALIVE,
  SUSPECT,
  DEAD,
  LEFT;

  /** From the C API's ml_state_t (ML_STATE_ALIVE = 0 ... ML_STATE_LEFT = 3). */
  static NodeState fromNative(int v) {
    switch (v) {
      case 0: return ALIVE;
      case 1: return SUSPECT;
      case 3: return LEFT;
      default: return DEAD;
    }
  }
}
