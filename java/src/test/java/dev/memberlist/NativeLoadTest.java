package dev.memberlist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memberlist.internal.MemberlistNative;
import dev.memberlist.internal.MemberlistNativeConstants;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the native library is found: java.library.path, the jar's natives/, or a clear failure. */
class NativeLoadTest {
  @TempDir Path tmp;

  @Test
  void versionMatchesTheHeaderTheBindingWasGeneratedFor() {
    NativeLibrary.ensureLoaded();
    assertEquals(MemberlistNativeConstants.ML_VERSION, MemberlistNative.ml_version());
    assertEquals("java.library.path", NativeLibrary.LOADED_FROM);
  }

  private static String classPath() throws Exception {
    String main = Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    String test = Path.of(LoadProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    return main + File.pathSeparator + test;
  }

  private static String[] run(String cp, String libraryPath) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(cp);
    cmd.add("-Djava.library.path=" + libraryPath);
    cmd.add(LoadProbe.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
    return new String[] {Integer.toString(p.exitValue()), new String(out, StandardCharsets.UTF_8)};
  }

  @Test
  void aFailedLoadIsAClearError() throws Exception {
    String[] r = run(classPath(), tmp.resolve("nowhere").toString());
    assertNotEquals("0", r[0], r[1]);
    assertTrue(r[1].contains("ExceptionInInitializerError"), r[1]);
    assertTrue(r[1].contains("cannot load the native library libmemberlist_jni.so"), r[1]);
    assertTrue(r[1].contains("java.library.path=" + tmp.resolve("nowhere")), r[1]);
    assertTrue(r[1].contains("jar resource natives/linux-x86_64/"), r[1]);
  }

  @Test
  void extractedFromTheJarResources() throws Exception {
    Path natives = tmp.resolve("res").resolve(NativeLibrary.RESOURCE_DIR);
    Files.createDirectories(natives);
    String jniDir = System.getProperty("java.library.path");
    String capiDir = System.getProperty("memberlist.capi.dir");
    // real files, as the jar holds them (the build tree has symlinks)
    Files.copy(Path.of(capiDir, "libmemberlist.so").toRealPath(), natives.resolve("libmemberlist.so"));
    Files.copy(Path.of(jniDir, "libmemberlist_jni.so").toRealPath(), natives.resolve("libmemberlist_jni.so"));
    String[] r = run(classPath() + File.pathSeparator + tmp.resolve("res"), tmp.resolve("nowhere").toString());
    assertEquals("0", r[0], r[1]);
    assertTrue(r[1].contains("loaded-from=jar ("), r[1]);
    assertTrue(r[1].contains("probe_timeout=200ms"), r[1]);
  }
}
