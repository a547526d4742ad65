package dev.memberlist;

import static dev.memberlist.TestSupport.addr;
import static dev.memberlist.TestSupport.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java nodes in one cluster with a real hashicorp/memberlist v0.7.0 node and a node of our Go
 * package: both are go/cmd/memberlist's "agent" (built with go.real.mod for the real one, with
 * go.mod — which replaces hashicorp/memberlist by libmemberlist's Go package — for ours), run as
 * subprocesses. Skipped, with the reason, when go or the agent's sources are missing or a build
 * fails.
 */
class GoInteropTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  @TempDir Path tmp;
  final List<Memberlist> nodes = new ArrayList<>();
  final List<Agent> agents = new ArrayList<>();

  /** One agent subprocess and the lines it printed. */
  private static Config.Builder sameAsAgents(String name, String ip) {
    return Config.local().log(TestSupport.QUIET, LogLevel.WARN).name(name).bindAddress(ip).bindPort(0);
  }

  static final class Agent {
    final String name;
    final Process process;
    final Path output;

    // The agent writes to a file, not a pipe: a pipe reader that stops early would make the
    // agent's next print die of SIGPIPE before it leaves.
    Agent(String name, Process p, Path output) {
      this.name = name;
      this.process = p;
      this.output = output;
    }

    List<String> lines() {
      try {
        return Files.readAllLines(output, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return List.of("(cannot read " + output + ": " + e + ")");
      }
    }

    /** Whether a line holds every one of parts (e.g. "join", "java-0", "meta=..."). */
    boolean printed(String... parts) {
      return lines().stream().anyMatch(l -> {
        for (String p : parts) if (!l.contains(p)) return false;
        return true;
      });
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (Agent a : agents) {
      a.process.destroyForcibly();
      a.process.waitFor(10, TimeUnit.SECONDS);
    }
    TestSupport.closeAll(nodes);
  }

  private static String findGo() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, "go");
      if (Files.isExecutable(p)) return p.toString();
    }
    Path p = Path.of("/usr/local/go/bin/go");
    return Files.isExecutable(p) ? p.toString() : null;
  }

  /** go build; null (and the output in skipped) on failure. */
  private String build(String go, Path cmdDir, String out, List<String> extra, Map<String, String> env,
      List<String> skipped) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(go, "build"));
    cmd.addAll(extra);
    cmd.addAll(List.of("-o", tmp.resolve(out).toString(), "./memberlist"));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cmdDir.toFile()).redirectErrorStream(true);
    pb.environment().put("GOTOOLCHAIN", "local");
    pb.environment().putAll(env);
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      skipped.add(out + ": go build timed out");
      return null;
    }
    if (p.exitValue() != 0) {
      skipped.add(out + ": go build failed: " + text.strip());
      return null;
    }
    return tmp.resolve(out).toString();
  }

  private Agent startAgent(String binary, String name, String ip, String join, String meta) throws IOException {
    List<String> cmd = List.of(binary, "agent", "--name", name, "--bind", ip + ":0", "--join", join,
        "--profile", "local", "--http", "", "--meta", meta, "--leave-timeout", "2s",
        // memberlist sends a leave only retransmit_mult * log10(N+1) times in all, to random peers:
        // with few nodes one of them can miss it and see a failure instead; send it more often.
        "--retransmit-mult", "8");
    Path out = tmp.resolve(name + ".out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Agent a = new Agent(name, p, out);
    agents.add(a);
    return a;
  }

  private static List<String> names(List<Agent> l) {
    List<String> out = new ArrayList<>();
    for (Agent a : l) out.add(a.name);
    return out;
  }

  @Test
  void javaWithRealHashicorpAndOurGoAgent() throws Exception {
    String go = findGo();
    Assumptions.assumeTrue(go != null, "go is not installed (not on PATH, not /usr/local/go/bin/go)");
    Path repo = Path.of(System.getProperty("memberlist.repo.dir", "..")).toAbsolutePath().normalize();
    Path cmdDir = repo.resolve("go/cmd");
    Assumptions.assumeTrue(Files.isRegularFile(cmdDir.resolve("memberlist/agent.go"))
        && Files.isRegularFile(cmdDir.resolve("go.real.mod")), "go/cmd/memberlist (the agent) is not in " + repo);

    List<String> skipped = new ArrayList<>();
    String real = build(go, cmdDir, "memberlist-real", List.of("-modfile=go.real.mod"), Map.of(), skipped);
    // ours links libmemberlist through pkg-config: point it at this build tree
    String capiDir = System.getProperty("memberlist.capi.dir");
    Path pc = tmp.resolve("pkgconfig");
    Files.createDirectories(pc);
    Files.writeString(pc.resolve("memberlist.pc"), "Name: memberlist\nDescription: build tree\nVersion: 0.1.0\n"
        + "Cflags: -I" + repo.resolve("capi/include") + "\n"
        + "Libs: -L" + capiDir + " -lmemberlist -Wl,-rpath," + capiDir + "\n");
    String ours = build(go, cmdDir, "memberlist-ours", List.of(), Map.of("PKG_CONFIG_PATH", pc.toString()), skipped);
    Assumptions.assumeTrue(real != null || ours != null, "no Go agent could be built: " + skipped);

    Map<String, NodeState> left = new ConcurrentHashMap<>();
    Map<String, Node> joined = new ConcurrentHashMap<>();
    EventListener ev = new EventListener() {
      @Override
      public void notifyJoin(Node n) {
        joined.put(n.name(), n);
        left.remove(n.name());
      }

      @Override
      public void notifyUpdate(Node n) {
        joined.put(n.name(), n);
      }

      @Override
      public void notifyLeave(Node n) {
        left.put(n.name(), n.state());
      }
    };
    final byte[][] meta = {"java-meta-1".getBytes(StandardCharsets.UTF_8)};
    Delegate d = new Delegate() {
      @Override
      public byte[] nodeMeta(int limit) {
        return meta[0];
      }
    };
    // The Java nodes run the agents' own profile (local): with a failure detector much faster
    // than the agents' gossip, a Java node could declare a leaving agent dead before its leave
    // message arrived.
    Memberlist j0 = Memberlist.create(sameAsAgents("java-0", "127.0.0.60").events(ev).delegate(d).build());
    nodes.add(j0);
    Memberlist j1 = Memberlist.create(sameAsAgents("java-1", "127.0.0.63").build());
    nodes.add(j1);
    assertEquals(1, j1.join(addr(j0)));

    List<Agent> running = new ArrayList<>();
    if (real != null) running.add(startAgent(real, "go-real", "127.0.0.61", addr(j0), "real-meta"));
    if (ours != null) running.add(startAgent(ours, "go-ours", "127.0.0.62", addr(j0), "ours-meta"));
    int n = 2 + running.size();

    // everyone sees everyone, with metadata both ways
    waitUntil(WAIT, () -> j0.numMembers() == n && j1.numMembers() == n, () -> "java sees " + j0.members());
    for (Agent a : running) {
      Node seen = joined.get(a.name);
      assertArrayEquals((a.name.equals("go-real") ? "real-meta" : "ours-meta").getBytes(StandardCharsets.UTF_8),
          seen.meta(), seen.toString());
      waitUntil(WAIT, () -> a.printed("join", "java-0", "meta=\"java-meta-1\"") && a.printed("join", "java-1"),
          () -> a.name + " printed " + a.lines());
      for (Agent other : running) {
        if (other != a) waitUntil(WAIT, () -> a.printed("join", other.name), () -> a.name + " printed " + a.lines());
      }
    }
    // a metadata update from Java reaches the Go nodes
    meta[0] = "java-meta-2".getBytes(StandardCharsets.UTF_8);
    j0.updateNode(Duration.ofSeconds(5));
    for (Agent a : running) {
      waitUntil(WAIT, () -> a.printed("update", "java-0", "meta=\"java-meta-2\""), () -> a.name + " printed " + a.lines());
    }
    // a Java node leaving is seen by the Go nodes
    j1.leave(Duration.ofSeconds(5));
    j1.close();
    for (Agent a : running) {
      waitUntil(WAIT, () -> a.printed("leave", "java-1"), () -> a.name + " printed " + a.lines());
    }
    // a Go node leaving gracefully (SIGTERM: the agent leaves, then exits)
    Agent leaver = running.get(0);
    leaver.process.destroy();
    assertTrue(leaver.process.waitFor(20, TimeUnit.SECONDS), "agent exits after leaving");
    waitUntil(WAIT, () -> left.get(leaver.name) == NodeState.LEFT, () -> "java sees " + leaver.name + " left: " + left + "; " + leaver.name + " printed " + leaver.lines() + " exit " + leaver.process.exitValue());
    // a Go node killed (SIGKILL: no leave) is detected as dead
    if (running.size() > 1) {
      Agent victim = running.get(1);
      waitUntil(WAIT, () -> victim.printed("leave", leaver.name), () -> victim.name + " printed " + victim.lines());
      victim.process.destroyForcibly();
      assertTrue(victim.process.waitFor(20, TimeUnit.SECONDS));
      waitUntil(WAIT, () -> left.get(victim.name) == NodeState.DEAD, () -> "java sees " + victim.name + " dead: " + left);
    }
    // the cluster part ran with what could be built; a missing agent still shows as a skip
    Assumptions.assumeTrue(skipped.isEmpty(), "ran with " + names(running) + " only; " + skipped);
  }
}
