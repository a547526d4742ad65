package memberlist

import (
	"testing"
	"time"
)

// Keys of libmemberlist that Config does not carry through entries(), and why. A key the core
// gains shows up here as a failure until Config covers it or it is listed.
var configKeysNotInEntries = map[string]string{
	"secret_key":                "Config.SecretKey / Keyring go through ml_keyring_t",
	"lifeguard":                 "libmemberlist's own knob (memberlist has no switch); Lifeguard stays on",
	"reconnect_interval":        "libmemberlist's own reconnect of dead nodes; memberlist has none",
	"reconnect_timeout":         "libmemberlist's own reconnect of dead nodes; memberlist has none",
	"max_concurrent_push_pulls": "memberlist's maxPushPullRequests is a constant (128), not a Config field",
	"max_packet_decompressed":   "a decoding bound; memberlist has no Config field for it",
	"max_stream_decompressed":   "a decoding bound; memberlist has no Config field for it",
	"max_encrypted_stream":      "a decoding bound; memberlist has no Config field for it",
	"max_stream_bytes":          "a decoding bound; memberlist has no Config field for it",
	"max_push_pull_nodes":       "a decoding bound; memberlist has no Config field for it",
	"max_user_state":            "a decoding bound; memberlist has no Config field for it",
	"max_user_msg":              "a decoding bound; memberlist has no Config field for it",
	"max_meta":                  "MetaMaxSize is a constant in memberlist",
	"max_stream_memory":         "a decoding bound across streams; memberlist has no Config field for it",
	"max_tcp_packet":            "a decoding bound of the TCP-only transport (Config.TCPOnly); its 16 MiB default covers dskit's 10 MiB packets",
}

// Config and libmemberlist's property table name the same keys.
func TestConfig_coversTheCoreKeys(t *testing.T) {
	core := map[string]bool{}
	for _, k := range coreConfigKeys() {
		core[k] = true
	}
	if len(core) == 0 {
		t.Fatal("ml_config_key_at listed no keys")
	}
	ours := map[string]bool{}
	for _, e := range DefaultLANConfig().entries() {
		ours[e.key] = true
		if !core[e.key] {
			t.Errorf("Config sets %q (%s), which libmemberlist does not know", e.key, e.field)
		}
	}
	for k := range core {
		if _, skip := configKeysNotInEntries[k]; !ours[k] && !skip {
			t.Errorf("libmemberlist's key %q has no Config field and no reason in configKeysNotInEntries", k)
		}
		if _, skip := configKeysNotInEntries[k]; ours[k] && skip {
			t.Errorf("%q is both set by Config and listed as not set", k)
		}
	}
	for k := range configKeysNotInEntries {
		if !core[k] {
			t.Errorf("configKeysNotInEntries lists %q, which libmemberlist no longer has", k)
		}
	}
}

// DefaultLANConfig, DefaultWANConfig and DefaultLocalConfig hold memberlist's presets; the core
// holds the same three. They must agree value for value.
func TestConfig_presetsAgreeWithTheCore(t *testing.T) {
	for i, p := range []struct {
		name string
		conf *Config
	}{{"LAN", DefaultLANConfig()}, {"WAN", DefaultWANConfig()}, {"Local", DefaultLocalConfig()}} {
		core, err := corePreset(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.conf.entries() {
			got := core[e.key]
			if got == e.value {
				continue
			}
			// Durations may be spelled differently ("60s" / "1m0s").
			if a, err1 := time.ParseDuration(got); err1 == nil {
				if b, err2 := time.ParseDuration(e.value); err2 == nil && a == b {
					continue
				}
			}
			t.Errorf("%s preset: %s (%s) is %q in Go, %q in libmemberlist", p.name, e.field, e.key, e.value, got)
		}
	}
}
