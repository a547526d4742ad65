package dev.memberlist;

import dev.memberlist.internal.MemberlistNative;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A node's configuration: one of memberlist's presets ({@link #lan()}, {@link #wan()},
 * {@link #local()}) plus the keys set on it (docs/config.md lists them), the listeners and the
 * binding's own close behaviour. Immutable; built with {@link Builder}. Holds no native resource.
 *
 * <p>Every setter checks its value against the library at once: an unknown key or a bad value
 * throws {@link MemberlistException} with the library's text.
 */
public final class Config {
  /** The C API's ml_preset_t. */
  enum Preset {
    LAN(0), WAN(1), LOCAL(2);

    final int value;

    Preset(int v) {
      value = v;
    }
  }

  final Preset preset;
  final Map<String, String> values;
  final Keyring keyring;
  final Delegate delegate;
  final EventListener events;
  final ConflictListener conflict;
  final MergeListener merge;
  final AliveListener alive;
  final NodeSelectionListener nodeSelection;
  final PingListener ping;
  final TcpPingPolicy tcpPings;
  final LogListener log;
  final LogLevel logLevel;
  final boolean leaveOnClose;
  final Duration leaveTimeout;

  private Config(Builder b) {
    preset = b.preset;
    values = Collections.unmodifiableMap(new LinkedHashMap<>(b.values));
    keyring = b.keyring;
    delegate = b.delegate;
    events = b.events;
    conflict = b.conflict;
    merge = b.merge;
    alive = b.alive;
    nodeSelection = b.nodeSelection;
    ping = b.ping;
    tcpPings = b.tcpPings;
    log = b.log;
    logLevel = b.logLevel;
    leaveOnClose = b.leaveOnClose;
    leaveTimeout = b.leaveTimeout;
  }

  /** What compression sends (grafana/memberlist's CompressionAlgorithm); both are always read. */
  public enum CompressionAlgorithm {
    /** memberlist's LZW: the default, read by every memberlist. */
    LZW("lzw"),
    /** Snappy's block format: read by grafana/memberlist and libmemberlist, not hashicorp/memberlist. */
    SNAPPY("snappy");

    final String key;

    CompressionAlgorithm(String key) {
      this.key = key;
    }
  }

  /** memberlist's DefaultLANConfig. */
  public static Builder lan() {
    return new Builder(Preset.LAN);
  }

  /** memberlist's DefaultWANConfig. */
  public static Builder wan() {
    return new Builder(Preset.WAN);
  }

  /** memberlist's DefaultLocalConfig. */
  public static Builder local() {
    return new Builder(Preset.LOCAL);
  }

  /** The keys set on the preset, in order. */
  public Map<String, String> values() {
    return values;
  }

  /** The effective value of {@code key} as the library prints it (preset default or set value). */
  public String get(String key) {
    long cfg = toNative();
    try {
      return getNative(cfg, key);
    } finally {
      MemberlistNative.ml_config_destroy(cfg);
    }
  }

  /** Checks the configuration as a whole (e.g. a node name is set, durations are positive). */
  public void validate() {
    long cfg = toNative();
    try {
      byte[] err = new byte[512];
      MemberlistException.check(MemberlistNative.ml_config_validate(cfg, err), "invalid configuration", err);
    } finally {
      MemberlistNative.ml_config_destroy(cfg);
    }
  }

  public boolean leaveOnClose() {
    return leaveOnClose;
  }

  public Duration leaveTimeout() {
    return leaveTimeout;
  }

  /** A new ml_config_t with the preset and the values (no registrations); the caller destroys it. */
  long toNative() {
    return toNative(preset, values);
  }

  static long toNative(Preset preset, Map<String, String> values) {
    NativeLibrary.ensureLoaded();
    long[] out = new long[1];
    MemberlistException.check(MemberlistNative.ml_config_create(out, preset.value), "ml_config_create");
    long cfg = out[0];
    try {
      byte[] err = new byte[512];
      for (Map.Entry<String, String> e : values.entrySet()) {
        MemberlistException.check(
            MemberlistNative.ml_config_set(cfg, e.getKey(), e.getValue(), err), "config " + e.getKey(), err);
      }
      return cfg;
    } catch (RuntimeException e) {
      MemberlistNative.ml_config_destroy(cfg);
      throw e;
    }
  }

  static String getNative(long cfg, String key) {
    byte[] buf = new byte[256];
    long[] len = new long[1];
    MemberlistException.check(MemberlistNative.ml_config_get(cfg, key, buf, len), "config get " + key);
    if (len[0] >= buf.length) {
      buf = new byte[(int) len[0] + 1];
      MemberlistException.check(MemberlistNative.ml_config_get(cfg, key, buf, len), "config get " + key);
    }
    return MemberlistException.cString(buf);
  }

  /** Go duration syntax, exact: "1500ms", "250us", "7ns". */
  static String goDuration(Duration d) {
    Objects.requireNonNull(d, "duration");
    if (d.isNegative()) throw new MemberlistException(MemberlistException.BAD_VALUE, "negative duration " + d);
    long nanos = d.toNanos();
    if (nanos % 1_000_000 == 0) return nanos / 1_000_000 + "ms";
    if (nanos % 1_000 == 0) return nanos / 1_000 + "us";
    return nanos + "ns";
  }

  /** Builds a {@link Config}. Not thread-safe. */
  public static final class Builder {
    private final Preset preset;
    private final Map<String, String> values = new LinkedHashMap<>();
    private Keyring keyring;
    private Delegate delegate;
    private EventListener events;
    private ConflictListener conflict;
    private MergeListener merge;
    private AliveListener alive;
    private NodeSelectionListener nodeSelection;
    private PingListener ping;
    private TcpPingPolicy tcpPings;
    private LogListener log;
    private LogLevel logLevel = LogLevel.INFO;
    private boolean leaveOnClose = false;
    private Duration leaveTimeout = Duration.ofSeconds(5);

    private Builder(Preset p) {
      preset = p;
    }

    /** Sets one key of docs/config.md to its string form; checked at once. */
    public Builder set(String key, String value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      Map<String, String> one = new LinkedHashMap<>();
      one.put(key, value);
      long cfg = Config.toNative(preset, one); // throws with the library's text
      MemberlistNative.ml_config_destroy(cfg);
      values.remove(key);
      values.put(key, value);
      return this;
    }

    private Builder set(String key, long v) {
      return set(key, Long.toString(v));
    }

    private Builder set(String key, boolean v) {
      return set(key, Boolean.toString(v));
    }

    private Builder set(String key, Duration d) {
      return set(key, goDuration(d));
    }

    public Builder name(String v) { return set("name", v); }
    public Builder label(String v) { return set("label", v); }
    /** Accept unlabeled traffic as if it carried our label. */
    public Builder skipInboundLabelCheck(boolean v) { return set("skip_inbound_label_check", v); }
    public Builder bindAddress(String v) { return set("bind_addr", v); }
    public Builder bindAddress(InetAddress v) { return set("bind_addr", v.getHostAddress()); }
    /** 0 = a port chosen by the kernel (read it back with {@link Memberlist#localNode()}). */
    public Builder bindPort(int v) { return set("bind_port", v); }
    public Builder advertiseAddress(String v) { return set("advertise_addr", v); }
    public Builder advertisePort(int v) { return set("advertise_port", v); }
    public Builder protocolVersion(int v) { return set("protocol_version", v); }
    public Builder tcpTimeout(Duration v) { return set("tcp_timeout", v); }
    public Builder indirectChecks(int v) { return set("indirect_checks", v); }
    public Builder retransmitMult(int v) { return set("retransmit_mult", v); }
    public Builder suspicionMult(int v) { return set("suspicion_mult", v); }
    public Builder suspicionMaxTimeoutMult(int v) { return set("suspicion_max_timeout_mult", v); }
    public Builder pushPullInterval(Duration v) { return set("push_pull_interval", v); }
    /** Nodes to push/pull with per push/pull interval; 0 = 1 (grafana/memberlist's PushPullNodes). */
    public Builder pushPullNodes(int v) { return set("push_pull_nodes", v); }
    public Builder probeInterval(Duration v) { return set("probe_interval", v); }
    public Builder probeTimeout(Duration v) { return set("probe_timeout", v); }
    public Builder disableTcpPings(boolean v) { return set("disable_tcp_pings", v); }
    public Builder awarenessMaxMultiplier(int v) { return set("awareness_max_multiplier", v); }
    public Builder gossipInterval(Duration v) { return set("gossip_interval", v); }
    public Builder gossipNodes(int v) { return set("gossip_nodes", v); }
    public Builder gossipToTheDeadTime(Duration v) { return set("gossip_to_the_dead_time", v); }
    public Builder gossipVerifyIncoming(boolean v) { return set("gossip_verify_incoming", v); }
    public Builder gossipVerifyOutgoing(boolean v) { return set("gossip_verify_outgoing", v); }
    public Builder enableCompression(boolean v) { return set("enable_compression", v); }
    /**
     * What {@link #enableCompression} sends: {@link CompressionAlgorithm#LZW} (the default, read
     * by every memberlist) or {@link CompressionAlgorithm#SNAPPY} (read by grafana/memberlist and
     * libmemberlist only). Both are always accepted.
     */
    public Builder compressionAlgorithm(CompressionAlgorithm algo) {
      if (algo == null) throw new NullPointerException("algo");
      return set("compression_algorithm", algo.key);
    }
    /** AES key of 16, 24 or 32 bytes (a {@link #keyring} replaces it). */
    public Builder secretKey(byte[] key) { return set("secret_key", hex(key)); }
    public Builder delegateProtocolVersion(int v) { return set("delegate_protocol_version", v); }
    public Builder delegateProtocolMin(int v) { return set("delegate_protocol_min", v); }
    public Builder delegateProtocolMax(int v) { return set("delegate_protocol_max", v); }
    /** resolv.conf used to resolve join addresses. */
    public Builder dnsConfigPath(String v) { return set("dns_config_path", v); }
    public Builder handoffQueueDepth(int v) { return set("handoff_queue_depth", v); }
    public Builder udpBufferSize(int v) { return set("udp_buffer_size", v); }
    public Builder deadNodeReclaimTime(Duration v) { return set("dead_node_reclaim_time", v); }
    public Builder requireNodeNames(boolean v) { return set("require_node_names", v); }
    /** Comma-separated CIDRs nodes may come from; empty = all. */
    public Builder cidrsAllowed(String v) { return set("cidrs_allowed", v); }
    public Builder queueCheckInterval(Duration v) { return set("queue_check_interval", v); }
    public Builder lifeguard(boolean v) { return set("lifeguard", v); }
    /** Push/pull with a random failed node this often, so partitions heal; zero = off. */
    public Builder reconnectInterval(Duration v) { return set("reconnect_interval", v); }
    /** Failed nodes are no longer tried for reconnecting after this. */
    public Builder reconnectTimeout(Duration v) { return set("reconnect_timeout", v); }
    /** Inbound push/pulls served at once. */
    public Builder maxConcurrentPushPulls(int v) { return set("max_concurrent_push_pulls", v); }
    /**
     * Most metadata this node may have (bytes; default 512, memberlist's MetaMaxSize). Over 512
     * only for clusters whose libmemberlist nodes all set it; raises {@link #maxMeta} to match.
     * Refused when the alive message could not fit one {@link #udpBufferSize} packet.
     */
    public Builder metaMaxSize(int bytes) { return set("meta_max_size", bytes); }
    /**
     * Name reuse with a new address (default false, memberlist's behaviour): a node restarted
     * under its name at a new address takes the name there at once when its old entry is dead,
     * and after a ping to the old address goes unanswered within {@link #probeTimeout} when it is
     * alive or suspect (a leave for the old incarnation, a join for the new). An answer is
     * memberlist's conflict ({@link #conflict}). See docs/protocol.md, "Name reuse with a new
     * address".
     */
    public Builder reclaimNameOnNewAddress(boolean v) { return set("reclaim_name_on_new_address", v); }
    /**
     * TCP-only transport: no UDP socket; packets travel one per TCP connection in Grafana dskit's
     * TCPTransport framing, so the node can join a Loki/Mimir/Tempo memberlist ring. Every node
     * of the cluster must use it (docs/transport-tcp.md). {@link #udpBufferSize} may then go up
     * to {@link #maxTcpPacket}.
     */
    public Builder tcpOnly(boolean v) { return set("tcp_only", v); }
    /** With {@link #tcpOnly}: the largest packet received (more is cut off) or sent (bytes). */
    public Builder maxTcpPacket(long bytes) { return set("max_tcp_packet", bytes); }
    // Bounds on what a peer may make this node decode or buffer (bytes, or node states).
    public Builder maxPacketDecompressed(long bytes) { return set("max_packet_decompressed", bytes); }
    public Builder maxStreamDecompressed(long bytes) { return set("max_stream_decompressed", bytes); }
    public Builder maxEncryptedStream(long bytes) { return set("max_encrypted_stream", bytes); }
    public Builder maxStreamBytes(long bytes) { return set("max_stream_bytes", bytes); }
    public Builder maxPushPullNodes(long nodes) { return set("max_push_pull_nodes", nodes); }
    public Builder maxUserState(long bytes) { return set("max_user_state", bytes); }
    public Builder maxUserMsg(long bytes) { return set("max_user_msg", bytes); }
    public Builder maxMeta(long bytes) { return set("max_meta", bytes); }
    public Builder maxStreamMemory(long bytes) { return set("max_stream_memory", bytes); }

    /** The keyring the node uses, shared live (its keys replace a secret key). */
    public Builder keyring(Keyring v) { keyring = v; return this; }
    public Builder delegate(Delegate v) { delegate = v; return this; }
    public Builder events(EventListener v) { events = v; return this; }
    public Builder conflict(ConflictListener v) { conflict = v; return this; }
    public Builder merge(MergeListener v) { merge = v; return this; }
    public Builder alive(AliveListener v) { alive = v; return this; }
    /** Zone-aware gossip (grafana/memberlist's NodeSelectionDelegate); see {@link NodeSelectionListener}. */
    public Builder nodeSelection(NodeSelectionListener v) { nodeSelection = v; return this; }
    public Builder ping(PingListener v) { ping = v; return this; }
    /** memberlist's DisableTcpPingsForNode. */
    public Builder disableTcpPingsForNode(TcpPingPolicy v) { tcpPings = v; return this; }
    /**
     * The library's log lines at {@code minLevel} and above, and callback failures, to {@code v}.
     * Without a listener they go to {@link System.Logger} "dev.memberlist", from the lowest level
     * that logger has enabled when the node is created.
     */
    public Builder log(LogListener v, LogLevel minLevel) {
      log = v;
      logLevel = Objects.requireNonNull(minLevel, "minLevel");
      return this;
    }
    /** Whether {@link Memberlist#close()} leaves the cluster first (default false: it just stops). */
    public Builder leaveOnClose(boolean v) { leaveOnClose = v; return this; }
    /** How long close() waits for the leave to spread (default 5s). */
    public Builder leaveTimeout(Duration v) { leaveTimeout = Objects.requireNonNull(v); return this; }

    public Config build() {
      return new Config(this);
    }
  }

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    return sb.toString();
  }
}
