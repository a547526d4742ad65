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

  System.Logger.Level toSystem() {
    switch (this) {
      case DEBUG: return System.Logger.Level.DEBUG;
      case INFO: return System.Logger.Level.INFO;
      case WARN: return System.Logger.Level.WARNING;
      default: return System.Logger.Level.ERROR;
    }
  }
}
