package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import dev.memberlist.internal.MemberlistNativeConstants;
import java.nio.charset.StandardCharsets;

/**
 * A failed libmemberlist call: the C error code ({@code ML_ERR_*}, negative) and the library's text
 * (the errstr the C function wrote, or the code's name when it wrote none).
 */
public class MemberlistException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The handle was shut down or closed. */
  public static final int CLOSED = MemberlistNativeConstants.ML_ERR_CLOSED;
  /** Called from a callback where the call would deadlock. */
  public static final int IN_CALLBACK = MemberlistNativeConstants.ML_ERR_IN_CALLBACK;
  public static final int INVALID_ARGUMENT = MemberlistNativeConstants.ML_ERR_INVALID_ARGUMENT;
  public static final int UNKNOWN_KEY = MemberlistNativeConstants.ML_ERR_UNKNOWN_KEY;
  public static final int BAD_VALUE = MemberlistNativeConstants.ML_ERR_BAD_VALUE;
  public static final int INVALID_CONFIG = MemberlistNativeConstants.ML_ERR_INVALID_CONFIG;
  public static final int TIMEOUT = MemberlistNativeConstants.ML_ERR_TIMEOUT;
  public static final int NETWORK = MemberlistNativeConstants.ML_ERR_NETWORK;
  public static final int JOIN_FAILED = MemberlistNativeConstants.ML_ERR_JOIN_FAILED;
  public static final int NOT_FOUND = MemberlistNativeConstants.ML_ERR_NOT_FOUND;
  public static final int TOO_LARGE = MemberlistNativeConstants.ML_ERR_TOO_LARGE;
  public static final int KEY = MemberlistNativeConstants.ML_ERR_KEY;
  /** Not available in this mode (an external-transport input on a node with its own sockets). */
  public static final int NOT_SUPPORTED = MemberlistNativeConstants.ML_ERR_NOT_SUPPORTED;
  /** Still in use: a runtime with memberlists on it, a keyring backing another memberlist. */
  public static final int BUSY = MemberlistNativeConstants.ML_ERR_BUSY;

  private final int code;
  private final String detail;

  public MemberlistException(int code, String detail) {
    super(format(code, detail));
    this.code = code;
    this.detail = detail == null ? "" : detail;
  }

  /** The C API's error code (negative). */
  public int code() {
    return code;
  }

  /** The library's own error text ("" when it gave none). */
  public String detail() {
    return detail;
  }

  /** The short name of the code ("shut down", "bad configuration value", ...). */
  public String codeName() {
    return codeName(code);
  }

  private static String codeName(int code) {
    try {
      return MemberlistNative.ml_err_string(code);
    } catch (LinkageError e) { // the library itself failed to load: still say something useful
      return "error";
    }
  }

  private static String format(int code, String detail) {
    String name = codeName(code);
    return detail == null || detail.isEmpty()
        ? name + " (" + code + ")"
        : detail + " (" + name + ", " + code + ")";
  }

  /** Throws for a negative {@code rc}; {@code op} prefixes the text. */
  static void check(int rc, String op) {
    if (rc < 0) throw new MemberlistException(rc, op);
  }

  /** Throws for a negative {@code rc} with the errstr buffer's text. */
  static void check(int rc, String op, byte[] errstr) {
    if (rc < 0) {
      String text = cString(errstr);
      throw new MemberlistException(rc, text.isEmpty() ? op : op + ": " + text);
    }
  }

  /** The NUL-terminated UTF-8 text in buf. */
  static String cString(byte[] buf) {
    if (buf == null) return "";
    int n = 0;
    while (n < buf.length && buf[n] != 0) n++;
    return new String(buf, 0, n, StandardCharsets.UTF_8);
  }
}
