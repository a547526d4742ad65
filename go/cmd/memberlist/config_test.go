package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigFile: --config sets flags from a JSON file (strings, numbers, lists, durations,
// "_" for "-"); the command line wins over it.
func TestConfigFile(t *testing.T) {
	a := startAgent(t, "a")
	am := a.waitLine(startRe, 10*time.Second)

	path := filepath.Join(t.TempDir(), "agent.json")
	conf := map[string]any{
		"name":             "from-file",
		"meta":             "from-file",
		"log_format":       "json",
		"health-threshold": 2,
		"join":             []string{am[2]},
		"join-timeout":     "10s",
		"compression":      false,
	}
	b, _ := json.Marshal(conf)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// startAgent gives --name c; --meta on the command line too.
	c := startAgent(t, "c", "--config", path, "--meta", "from-flag")
	c.waitLine(`^\{.*"event":"joined".*$`, 10*time.Second) // log format and join list from the file
	sm := c.waitLine(`^\{.*"event":"agent".*$`, time.Second)
	var start struct{ Node, HTTP string }
	if err := json.Unmarshal([]byte(sm[0]), &start); err != nil {
		t.Fatal(err)
	}
	if start.Node != "c" {
		t.Errorf("name: %q, want c (the flag wins)", start.Node)
	}
	out := runCLI(t, "members", "--agent", start.HTTP, "--json", "--wait-for", "2", "--timeout", "10s")
	if !strings.Contains(out, `"meta": "from-flag"`) || strings.Contains(out, "from-file") {
		t.Errorf("meta: want from-flag:\n%s", out)
	}
	resp, err := http.Get("http://" + start.HTTP + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Threshold int }
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.Threshold != 2 {
		t.Errorf("health threshold %d, want 2 from the file", h.Threshold)
	}
	c.signalAndWait(syscall.SIGINT, 15*time.Second)
	a.signalAndWait(syscall.SIGINT, 15*time.Second)

	// Mistakes in the file name the file and the key.
	for _, bad := range []struct{ json, want string }{
		{`{"nmae": "x"}`, `unknown key "nmae" (did you mean "name"?)`},
		{`{"compression": "maybe"}`, `key "compression": want a JSON true or false, not the string "maybe"`},
		{`{"bind": ["127.0.0.1:0"]}`, `key "bind": want one string, not a list`},
		{`{"join-timeout": "soon"}`, `key "join-timeout": invalid argument`},
		{`["name"]`, `not a JSON object`},
	} {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(bad.json), 0o600); err != nil {
			t.Fatal(err)
		}
		out := runFail(t, nil, "agent", "--config", p, "--http", "")
		if !strings.HasPrefix(out, "Error: --config "+p+": ") || !strings.Contains(out, bad.want) || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: want one line with %q, got %q", bad.json, bad.want, out)
		}
	}
}
