package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** One member, as a snapshot: immutable, and never pointing into the library's state. */
public final class Node {
  private final String name;
  private final InetAddress address;
  private final int port;
  private final byte[] meta;
  private final NodeState state;
  private final long incarnation;
  private final byte[] versions; // pmin pmax pcur dmin dmax dcur

  Node(String name, InetAddress address, int port, byte[] meta, NodeState state, long incarnation, byte[] versions) {
    this.name = Objects.requireNonNull(name, "name");
    this.address = address;
    this.port = port;
    this.meta = meta == null ? new byte[0] : meta.clone();
    this.state = state;
    this.incarnation = incarnation;
    this.versions = versions == null || versions.length != 6 ? new byte[6] : versions.clone();
  }

  /** Copies the member at {@code ptr} (an ml_member_t *, valid during the call). */
  static Node fromNative(long ptr) {
    byte[] addr = MemberlistNative.mljni_member_addr(ptr);
    InetAddress ip;
    try {
      ip = InetAddress.getByAddress(addr);
    } catch (UnknownHostException e) { // a length other than 4 or 16: say so rather than guess
      ip = null;
    }
    return new Node(
        MemberlistNative.ml_member_name(ptr),
        ip,
        MemberlistNative.ml_member_port(ptr),
        MemberlistNative.mljni_member_meta(ptr),
        NodeState.fromNative(MemberlistNative.ml_member_state(ptr)),
        MemberlistNative.ml_member_incarnation(ptr),
        MemberlistNative.mljni_member_versions(ptr));
  }

  /** Copies every member of the ml_members_t at {@code list} (the caller frees it). */
  static List<Node> listFromNative(long list) {
    long n = MemberlistNative.ml_members_count(list);
    List<Node> out = new ArrayList<>((int) n);
    for (long i = 0; i < n; i++) out.add(fromNative(MemberlistNative.ml_members_get(list, i)));
    return Collections.unmodifiableList(out);
  }

  public String name() {
    return name;
  }

  /** The address as learned (an Inet4Address for IPv4 and IPv4-mapped addresses). */
  public InetAddress address() {
    return address;
  }

  public int port() {
    return port;
  }

  /** "ip:port" ("[v6]:port" for IPv6), as the C API and join take it. */
  public String hostPort() {
    if (address == null) return "?:" + port;
    String host = address.getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** A copy of the metadata. */
  public byte[] meta() {
    return meta.clone();
  }

  public NodeState state() {
    return state;
  }

  public long incarnation() {
    return incarnation;
  }

  public int protocolMin() {
    return versions[0] & 0xff;
  }

  public int protocolMax() {
    return versions[1] & 0xff;
  }

  public int protocolCurrent() {
    return versions[2] & 0xff;
  }

  public int delegateMin() {
    return versions[3] & 0xff;
  }

  public int delegateMax() {
    return versions[4] & 0xff;
  }

  public int delegateCurrent() {
    return versions[5] & 0xff;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof Node)) return false;
    Node n = (Node) o;
    return port == n.port && incarnation == n.incarnation && name.equals(n.name)
        && Objects.equals(address, n.address) && Arrays.equals(meta, n.meta) && state == n.state
        && Arrays.equals(versions, n.versions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, address, port, state, incarnation) * 31 + Arrays.hashCode(meta);
  }

  @Override
  public String toString() {
    return "Node{" + name + " " + hostPort() + " " + state + " inc=" + incarnation + " meta=" + meta.length + "B}";
  }
}
