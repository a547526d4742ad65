package dev.memberlist;

/** Run in a child JVM by NativeLoadTest: loads the library and prints where it came from. */
public final class LoadProbe {
  private LoadProbe() {}

  public static void main(String[] args) {
    String v = Config.local().build().get("probe_timeout"); // forces the load and a native call
    System.out.println("loaded-from=" + NativeLibrary.LOADED_FROM + " probe_timeout=" + v);
  }
}
