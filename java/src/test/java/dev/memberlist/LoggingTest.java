package dev.memberlist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without a LogListener, log lines go to System.Logger "dev.memberlist" at the mapped levels. */
class LoggingTest {
  @TempDir Path tmp;

  /** A logger enabled from {@code min} up. */
  private static System.Logger enabledFrom(System.Logger.Level min) {
    return new System.Logger() {
      @Override public String getName() { return "dev.memberlist"; }
      @Override public boolean isLoggable(Level level) { return level.getSeverity() >= min.getSeverity(); }
      @Override public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {}
      @Override public void log(Level level, ResourceBundle bundle, String format, Object... params) {}
    };
  }

  @Test
  void theLibraryLevelFollowsTheLogger() {
    assertEquals(LogLevel.DEBUG, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.ALL)));
    assertEquals(LogLevel.DEBUG, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.DEBUG)));
    assertEquals(LogLevel.INFO, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.INFO)));
    assertEquals(LogLevel.WARN, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.WARNING)));
    assertEquals(LogLevel.ERROR, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.ERROR)));
    assertEquals(LogLevel.ERROR, LogLevel.lowestEnabled(enabledFrom(System.Logger.Level.OFF)));
  }

  private List<String> runProbe(String level) throws Exception {
    Path services = tmp.resolve("finder/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve("java.lang.System$LoggerFinder"), CapturingLoggerFinder.class.getName() + "\n");
    String main = Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    String test = Path.of(LogProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(main + File.pathSeparator + test + File.pathSeparator + tmp.resolve("finder"));
    cmd.add("-Djava.library.path=" + System.getProperty("java.library.path"));
    cmd.add("-Dprobe.level=" + level);
    cmd.add(LogProbe.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
    assertEquals(0, p.exitValue(), out);
    List<String> records = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("LOG ")) records.add(line.substring(4));
    }
    assertFalse(records.isEmpty(), "no record reached System.Logger:\n" + out);
    return records;
  }

  @Test
  void withoutAListenerLinesGoToSystemLogger() throws Exception {
    List<String> records = runProbe("DEBUG");
    String all = String.join("\n", records);
    // the library's own debug line, at System.Logger's DEBUG
    assertTrue(records.stream().anyMatch(r -> r.startsWith("DEBUG|memberlist: Initiating push/pull sync with")), all);
    // a throwing listener: ERROR, the exception handed over as the Throwable
    assertTrue(records.stream().anyMatch(r -> r.startsWith("ERROR|memberlist log-b: Delegate.notifyMsg threw")
        && r.endsWith("|IllegalStateException: probe boom")), all);
  }

  @Test
  void theLibraryProducesNoLinesBelowTheLoggersLevel() throws Exception {
    List<String> records = runProbe("INFO");
    String all = String.join("\n", records);
    assertTrue(records.stream().noneMatch(r -> r.startsWith("DEBUG|")), all);
    assertTrue(records.stream().anyMatch(r -> r.startsWith("ERROR|memberlist log-b: Delegate.notifyMsg threw")), all);
  }
}
