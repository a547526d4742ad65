package dev.memberlist;

import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A System.LoggerFinder for LoggingTest's child JVM (registered there through a
 * META-INF/services file the test writes; not in the suite's own JVM). Loggers named
 * "dev.memberlist" record every call; the lowest enabled level is the system property
 * probe.level (a System.Logger.Level name, default DEBUG).
 */
public final class CapturingLoggerFinder extends System.LoggerFinder {
  /** "LEVEL|message|throwable class: message" per call, in order. */
  public static final List<String> RECORDS = new CopyOnWriteArrayList<>();

  @Override
  public System.Logger getLogger(String name, Module module) {
    System.Logger.Level min = System.Logger.Level.valueOf(System.getProperty("probe.level", "DEBUG"));
    return new System.Logger() {
      @Override public String getName() { return name; }

      @Override public boolean isLoggable(Level level) {
        return name.equals("dev.memberlist") && level.getSeverity() >= min.getSeverity();
      }

      @Override public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        if (name.equals("dev.memberlist")) {
          RECORDS.add(level + "|" + msg + "|" + (thrown == null ? "" : thrown.getClass().getSimpleName() + ": " + thrown.getMessage()));
        }
      }

      @Override public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        log(level, bundle, params == null || params.length == 0 ? format : java.text.MessageFormat.format(format, params), (Throwable) null);
      }
    };
  }
}
