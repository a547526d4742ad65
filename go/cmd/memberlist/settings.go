package main

import (
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// configKeys maps the keys of docs/config.md that memberlist.Config has a field for to that
// field. Keys the agent sets through its own flags are refused by --set, with the flag to use.
var configKeys = map[string]string{
	"skip_inbound_label_check":   "SkipInboundLabelCheck",
	"protocol_version":           "ProtocolVersion",
	"tcp_timeout":                "TCPTimeout",
	"indirect_checks":            "IndirectChecks",
	"suspicion_mult":             "SuspicionMult",
	"suspicion_max_timeout_mult": "SuspicionMaxTimeoutMult",
	"push_pull_interval":         "PushPullInterval",
	"probe_interval":             "ProbeInterval",
	"probe_timeout":              "ProbeTimeout",
	"disable_tcp_pings":          "DisableTcpPings",
	"awareness_max_multiplier":   "AwarenessMaxMultiplier",
	"gossip_interval":            "GossipInterval",
	"gossip_nodes":               "GossipNodes",
	"gossip_to_the_dead_time":    "GossipToTheDeadTime",
	"gossip_verify_incoming":     "GossipVerifyIncoming",
	"gossip_verify_outgoing":     "GossipVerifyOutgoing",
	"delegate_protocol_version":  "DelegateProtocolVersion",
	"delegate_protocol_min":      "DelegateProtocolMin",
	"delegate_protocol_max":      "DelegateProtocolMax",
	"dns_config_path":            "DNSConfigPath",
	"handoff_queue_depth":        "HandoffQueueDepth",
	"udp_buffer_size":            "UDPBufferSize",
	"dead_node_reclaim_time":     "DeadNodeReclaimTime",
	"require_node_names":         "RequireNodeNames",
	"cidrs_allowed":              "CIDRsAllowed",
	"queue_check_interval":       "QueueCheckInterval",
}

// ourKeys are docs/config.md keys for libmemberlist's own Config fields (additions to
// memberlist.Config, or grafana/memberlist's). The agent builds against hashicorp/memberlist too (go.real.mod), whose
// Config has no such field: there --set refuses them, saying so; on libmemberlist they are set
// like the keys above.
var ourKeys = map[string]string{
	"reclaim_name_on_new_address": "ReclaimNameOnNewAddress",
	// grafana/memberlist's fields, with its names (also not in hashicorp/memberlist).
	"push_pull_nodes":       "PushPullNodes",
	"compression_algorithm": "CompressionAlgorithm",
}

// flagKeys are the docs/config.md keys the agent's own flags set.
var flagKeys = map[string]string{
	"name": "--name", "label": "--label", "bind_addr": "--bind", "bind_port": "--bind",
	"advertise_addr": "--advertise", "advertise_port": "--advertise", "secret_key": "--key",
	"enable_compression": "--compression", "retransmit_mult": "--retransmit-mult",
}

// applySettings applies --set key=value pairs (docs/config.md keys) to c, after the profile and
// the agent's flags. Every error names the key and says what would be accepted.
func applySettings(c *memberlist.Config, settings []string) error {
	v := reflect.ValueOf(c).Elem()
	for _, kv := range settings {
		key, value, ok := strings.Cut(kv, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return fmt.Errorf("--set %q: want key=value, a key of docs/config.md (e.g. probe_interval=2s)", kv)
		}
		if flag, ok := flagKeys[key]; ok {
			return fmt.Errorf("--set %s: set it with %s", key, flag)
		}
		field, ok := configKeys[key]
		if ours, isOurs := ourKeys[key]; isOurs {
			if !v.FieldByName(ours).IsValid() {
				return fmt.Errorf("--set %s: not a memberlist.Config field in hashicorp/memberlist (libmemberlist's Go package: Config.%s; C API and Java: %s)", key, ours, key)
			}
			field, ok = ours, true
		}
		if !ok {
			return fmt.Errorf("--set %s: %s", key, unknownKey(key))
		}
		if err := setField(v.FieldByName(field), value); err != nil {
			return fmt.Errorf("--set %s=%s: %v", key, value, err)
		}
	}
	return nil
}

// unknownKey explains a key that --set does not take.
func unknownKey(key string) string {
	switch {
	case key == "meta_max_size":
		// The agent builds against hashicorp/memberlist too (go.real.mod), whose Config has no
		// such field; libmemberlist's Go package has Config.MetaMaxSize for programs.
		return "not a memberlist.Config field in hashicorp/memberlist (libmemberlist's Go package: Config.MetaMaxSize; C API and Java: meta_max_size)"
	case key == "tcp_only":
		// As meta_max_size: hashicorp/memberlist's Config has no such field.
		return "not a memberlist.Config field in hashicorp/memberlist (libmemberlist's Go package: Config.TCPOnly; C API and Java: tcp_only)"
	case key == "lifeguard" || strings.HasPrefix(key, "reconnect_") || key == "max_concurrent_push_pulls" ||
		strings.HasPrefix(key, "max_"):
		return "not a memberlist.Config field (libmemberlist's C API and Java only)"
	}
	keys := make([]string, 0, len(configKeys))
	for k := range configKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, bestD := "", 4
	for _, k := range keys {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %s?)", best)
	}
	return "unknown key; the keys are: " + strings.Join(keys, ", ")
}

func setField(f reflect.Value, value string) error {
	value = strings.TrimSpace(value)
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 500ms or 2s")
		}
		f.SetInt(int64(d))
	case f.Type() == reflect.TypeOf([]net.IPNet(nil)):
		var parts []string
		for _, p := range strings.Split(value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		nets, err := memberlist.ParseCIDRs(parts)
		if err != nil {
			return fmt.Errorf("want comma-separated networks such as 10.0.0.0/8: %v", strings.TrimSpace(err.Error()))
		}
		f.Set(reflect.ValueOf(nets))
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number >= 0")
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Uint8:
		n, err := strconv.ParseUint(value, 10, 8)
		if err != nil {
			return fmt.Errorf("want a whole number from 0 to 255")
		}
		f.SetUint(n)
	case f.Kind() == reflect.String:
		f.SetString(value)
	default:
		return fmt.Errorf("cannot be set from text (%s)", f.Type())
	}
	return nil
}
