package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// Every key of docs/config.md is either settable with --set (and then through the memberlist.Config
// field the doc names), set by one of the agent's own flags, or refused as C-API-only: none is
// silently ignored.
func TestSetCoversEveryKeyOfDocsConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	seen := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		key := strings.Trim(strings.TrimSpace(cols[1]), "`")
		field := strings.Trim(strings.TrimSpace(cols[2]), "`")
		lan := strings.Trim(strings.TrimSpace(cols[4]), "`")
		if lan == `""` {
			lan = ""
		}
		rows++
		seen[key] = true
		c := memberlist.DefaultLANConfig()
		err := applySettings(c, []string{key + "=" + lan})
		switch {
		case flagKeys[key] != "":
			if err == nil || !strings.Contains(err.Error(), flagKeys[key]) {
				t.Errorf("%s: want a pointer to %s, got %v", key, flagKeys[key], err)
			}
		case ourKeys[key] != "":
			// libmemberlist's addition: set on our package, refused on hashicorp/memberlist.
			f := reflect.ValueOf(c).Elem().FieldByName(ourKeys[key])
			if f.IsValid() && err != nil {
				t.Errorf("%s=%s on libmemberlist: %v", key, lan, err)
			}
			if !f.IsValid() && (err == nil || !strings.Contains(err.Error(), "not a memberlist.Config field in hashicorp/memberlist")) {
				t.Errorf("%s: want refused on hashicorp/memberlist, got %v", key, err)
			}
		case field == "":
			if err == nil || !strings.Contains(err.Error(), "not a memberlist.Config field") {
				t.Errorf("%s: want refused as C-API-only, got %v", key, err)
			}
		default:
			if configKeys[key] != field {
				t.Errorf("%s: maps to %q, the doc says %q", key, configKeys[key], field)
				continue
			}
			if err != nil {
				t.Errorf("%s=%s (the LAN default): %v", key, lan, err)
				continue
			}
			f := reflect.ValueOf(c).Elem().FieldByName(field)
			if d, ok := f.Interface().(time.Duration); ok {
				want, _ := time.ParseDuration(lan)
				if d != want {
					t.Errorf("%s: %v, want %v", key, d, want)
				}
			}
		}
	}
	if rows < 40 {
		t.Fatalf("read %d rows of docs/config.md; the table moved?", rows)
	}
	for k := range configKeys {
		if !seen[k] {
			t.Errorf("%s is settable but not in docs/config.md", k)
		}
	}
	for k := range ourKeys {
		if !seen[k] {
			t.Errorf("%s is settable but not in docs/config.md", k)
		}
	}
	// On libmemberlist the addition takes effect (reflection: this file builds on both).
	rc := memberlist.DefaultLANConfig()
	if f := reflect.ValueOf(rc).Elem().FieldByName("ReclaimNameOnNewAddress"); f.IsValid() {
		if err := applySettings(rc, []string{"reclaim_name_on_new_address=true"}); err != nil || !f.Bool() {
			t.Errorf("reclaim_name_on_new_address=true: %v, field %v", err, f.Bool())
		}
	}
	c := memberlist.DefaultLANConfig()
	if err := applySettings(c, []string{"probe_interval=2s", "gossip_nodes=5", "cidrs_allowed=10.0.0.0/8, 127.0.0.0/8", "require_node_names=true"}); err != nil {
		t.Fatal(err)
	}
	if c.ProbeInterval != 2*time.Second || c.GossipNodes != 5 || len(c.CIDRsAllowed) != 2 || !c.RequireNodeNames {
		t.Errorf("not applied: %v %v %v %v", c.ProbeInterval, c.GossipNodes, c.CIDRsAllowed, c.RequireNodeNames)
	}
	for in, want := range map[string]string{
		"probe_interval=fast":     "want a duration",
		"gossip_nodes=-1":         "want a whole number",
		"protocol_version=300":    "0 to 255",
		"cidrs_allowed=10.0.0.0":  "networks",
		"gossip_nodes":            "want key=value",
		"probe_intervall=1s":      "did you mean probe_interval",
		"max_user_msg=1":          "C API",
		"require_node_names=yes!": "true or false",
	} {
		if err := applySettings(memberlist.DefaultLANConfig(), []string{in}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--set %s: %v, want an error saying %q", in, err, want)
		}
	}
}

// --config's "memberlist" object becomes --set values that the command line's --set overrides.
func TestConfigFileMemberlistSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.json")
	b, _ := json.Marshal(map[string]any{"memberlist": map[string]any{"gossip_nodes": 5, "probe_interval": "3s", "disable_tcp_pings": true}})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newAgentCmd()
	if err := cmd.Flags().Parse([]string{"--set", "gossip_nodes=7"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfigFile(cmd, path); err != nil {
		t.Fatal(err)
	}
	set, err := cmd.Flags().GetStringArray("set")
	if err != nil {
		t.Fatal(err)
	}
	c := memberlist.DefaultLANConfig()
	if err := applySettings(c, set); err != nil {
		t.Fatal(err)
	}
	if c.GossipNodes != 7 || c.ProbeInterval != 3*time.Second || !c.DisableTcpPings {
		t.Errorf("settings %v gave gossip_nodes %d (want 7, the flag), probe_interval %v (want 3s), disable_tcp_pings %v",
			set, c.GossipNodes, c.ProbeInterval, c.DisableTcpPings)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"memberlist": {"gossip_nodes": [1]}}`), 0o600)
	if err := applyConfigFile(newAgentCmd(), bad); err == nil || !strings.Contains(err.Error(), "gossip_nodes") {
		t.Errorf("a list value: %v, want an error naming gossip_nodes", err)
	}
}
