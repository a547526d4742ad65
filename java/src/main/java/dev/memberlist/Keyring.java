package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * AES-GCM keys (16, 24 or 32 bytes; the first is the primary, used to encrypt). Shared live with
 * the node using it: {@link Memberlist#keyring()} is that node's keyring, and a keyring passed to
 * {@link Config.Builder#keyring} is changed in place while a node runs on it. Thread-safe.
 *
 * <p>A keyring made with {@link #create} is the caller's to {@link #close()}; closing it releases
 * the caller's reference only (a node using it keeps its own). The keyring of a memberlist is
 * borrowed: its close() does nothing, and it stops working when the memberlist is closed.
 */
public final class Keyring implements AutoCloseable {
  private final Object lock = new Object();
  private final Memberlist owner; // null: ours
  private long handle;

  private Keyring(long handle, Memberlist owner) {
    this.handle = handle;
    this.owner = owner;
  }

  /** A new keyring whose primary key is {@code primary}. */
  public static Keyring create(byte[] primary) {
    if (primary == null) {
      throw new MemberlistException(MemberlistException.INVALID_ARGUMENT, "keyring create: no primary key");
    }
    NativeLibrary.ensureLoaded();
    long[] out = new long[1];
    MemberlistException.check(MemberlistNative.ml_keyring_create(out, primary), "keyring create");
    return new Keyring(out[0], null);
  }

  /**
   * A keyring without keys (memberlist's {@code NewKeyring(nil, nil)}): a node using it sends
   * plaintext until a key is added, which becomes the primary and turns encryption on at once.
   */
  public static Keyring empty() {
    NativeLibrary.ensureLoaded();
    long[] out = new long[1];
    MemberlistException.check(MemberlistNative.ml_keyring_create(out, null), "keyring create");
    return new Keyring(out[0], null);
  }

  static Keyring borrowed(long handle, Memberlist owner) {
    return new Keyring(handle, owner);
  }

  private interface Op<T> {
    T run(long h);
  }

  private <T> T with(Op<T> op) {
    if (owner != null) return owner.withHandle(h -> op.run(handle));
    synchronized (lock) {
      if (handle == 0) throw new MemberlistException(MemberlistException.CLOSED, "keyring closed");
      return op.run(handle);
    }
  }

  /** The handle for ml_config_set_keyring (Memberlist.create holds no lock across it). */
  long handleForConfig() {
    synchronized (lock) {
      if (handle == 0) throw new MemberlistException(MemberlistException.CLOSED, "keyring closed");
      return handle;
    }
  }

  public void addKey(byte[] key) {
    with(h -> {
      MemberlistException.check(MemberlistNative.ml_keyring_add(h, key), "keyring add");
      return null;
    });
  }

  /** Makes an installed key the primary. */
  public void useKey(byte[] key) {
    with(h -> {
      MemberlistException.check(MemberlistNative.ml_keyring_use(h, key), "keyring use");
      return null;
    });
  }

  /** Removes a key (not the primary). */
  public void removeKey(byte[] key) {
    with(h -> {
      MemberlistException.check(MemberlistNative.ml_keyring_remove(h, key), "keyring remove");
      return null;
    });
  }

  /** Copies of the keys, the primary first. */
  public List<byte[]> keys() {
    return with(h -> {
      long n = MemberlistNative.ml_keyring_count(h);
      List<byte[]> out = new ArrayList<>();
      byte[] buf = new byte[32];
      for (long i = 0; i < n; i++) {
        long len = MemberlistNative.ml_keyring_get(h, i, buf);
        if (len == 0) break;
        out.add(Arrays.copyOf(buf, (int) len));
      }
      return Collections.unmodifiableList(out);
    });
  }

  public byte[] primaryKey() {
    List<byte[]> k = keys();
    return k.isEmpty() ? null : k.get(0);
  }

  @Override
  public void close() {
    if (owner != null) return;
    synchronized (lock) {
      if (handle != 0) MemberlistNative.ml_keyring_destroy(handle);
      handle = 0;
    }
  }
}
