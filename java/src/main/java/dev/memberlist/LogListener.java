package dev.memberlist;

/**
 * Receives the library's log lines (and the binding's reports of exceptions thrown by callbacks).
 * Without one, both go to {@link System#getLogger System.Logger} "dev.memberlist".
 */
@FunctionalInterface
public interface LogListener {
  void log(LogLevel level, String message);
}
