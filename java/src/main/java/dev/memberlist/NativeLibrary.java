package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import dev.memberlist.internal.MemberlistNativeConstants;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads libmemberlist_jni.so (which links libmemberlist.so) once, checks the library's version
 * against the one the binding was generated for, and initialises the callback bridge.
 *
 * Where from, in order:
 * <ol>
 *   <li>the directory in the system property {@code dev.memberlist.library.dir}, if set;
 *   <li>{@code java.library.path} ({@code System.loadLibrary("memberlist_jni")});
 *   <li>the jar: {@code natives/linux-x86_64/libmemberlist.so} and {@code libmemberlist_jni.so},
 *       extracted to a temporary directory and loaded with {@code System.load}, libmemberlist first
 *       (so the JNI library's dependency resolves to it).
 * </ol>
 * Failure is an {@link ExceptionInInitializerError} naming everything that was tried.
 */
final class NativeLibrary {
  static final String RESOURCE_DIR = "natives/linux-x86_64/";
  static final String PROP_DIR = "dev.memberlist.library.dir";

  /** Where the library came from (for diagnostics). */
  static final String LOADED_FROM;

  static {
    LOADED_FROM = load();
    long have = MemberlistNative.ml_version();
    int want = MemberlistNativeConstants.ML_VERSION;
    if ((have >> 8) != (want >> 8)) {
      throw new ExceptionInInitializerError(String.format(
          "libmemberlist version mismatch: the binding was generated for %d.%d.x, the loaded library (%s) is %s",
          want >> 16, (want >> 8) & 0xff, LOADED_FROM, MemberlistNative.ml_version_string()));
    }
    int rc = MemberlistNative.mljni_init(Bridge.class);
    if (rc != 0) {
      throw new ExceptionInInitializerError("libmemberlist_jni: cannot initialise the callback bridge (" + rc + ")");
    }
  }

  private NativeLibrary() {}

  /** Forces the static initialiser. */
  static void ensureLoaded() {}

  private static String load() {
    List<String> tried = new ArrayList<>();
    String dir = System.getProperty(PROP_DIR);
    if (dir != null && !dir.isEmpty()) {
      Path p = Path.of(dir, System.mapLibraryName("memberlist_jni"));
      try {
        System.load(p.toAbsolutePath().toString());
        return p.toString();
      } catch (UnsatisfiedLinkError e) {
        tried.add(PROP_DIR + "=" + dir + ": " + e.getMessage());
      }
    }
    try {
      System.loadLibrary("memberlist_jni");
      return "java.library.path";
    } catch (UnsatisfiedLinkError e) {
      tried.add("java.library.path=" + System.getProperty("java.library.path") + ": " + e.getMessage());
    }
    try {
      return loadFromJar();
    } catch (IOException | UnsatisfiedLinkError e) {
      tried.add("jar resource " + RESOURCE_DIR + ": " + e.getMessage());
    }
    throw new ExceptionInInitializerError(
        "libmemberlist: cannot load the native library libmemberlist_jni.so; tried " + String.join("; ", tried));
  }

  private static String loadFromJar() throws IOException {
    ClassLoader cl = NativeLibrary.class.getClassLoader();
    String[] names = {"libmemberlist.so", "libmemberlist_jni.so"};
    for (String n : names) {
      if (cl.getResource(RESOURCE_DIR + n) == null) throw new IOException(RESOURCE_DIR + n + " not found on the class path");
    }
    Path tmp = Files.createTempDirectory("memberlist-natives");
    tmp.toFile().deleteOnExit();
    for (String n : names) {
      Path target = tmp.resolve(n);
      try (InputStream in = cl.getResourceAsStream(RESOURCE_DIR + n)) {
        if (in == null) throw new IOException(RESOURCE_DIR + n + " not readable");
        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      }
      target.toFile().deleteOnExit();
    }
    for (String n : names) System.load(tmp.resolve(n).toAbsolutePath().toString());
    return "jar (" + tmp + ")";
  }
}
