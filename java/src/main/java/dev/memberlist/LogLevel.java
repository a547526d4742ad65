package dev.memberlist;

/** Log levels of the library (ml_log_level_t). */
public enum LogLevel {
  DEBUG,
  INFO,
  WARN,
  ERROR;

  static LogLevel fromNative(int v) {
    switch (v) {
      case 0: return DEBUG;
      case 1: return INFO;
      case 2: return WARN;
      default: return ERROR;
    }
  }

  /**
   * The lowest level {@code logger} has enabled (ERROR when none is): what the library is asked
   * to produce when no {@link LogListener} is set, so that enabling DEBUG for "dev.memberlist" in
   * the logging backend is enough to get memberlist's debug lines.
   */
  static LogLevel lowestEnabled(System.Logger logger) {
    for (LogLevel l : values()) {
      if (logger.isLoggable(l.toSystem())) return l;
    }
    return ERROR;
  }

  System.Logger.Level toSystem() {
    switch (this) {
      case DEBUG: return System.Logger.Level.DEBUG;
      case INFO: return System.Logger.Level.INFO;
      case WARN: return System.Logger.Level.WARNING;
      default: return System.Logger.Level.ERROR;
    }
  }
}
