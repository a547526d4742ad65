package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// applyConfigFile sets the agent's flags from a JSON object whose keys are the flag names
// ("bind", "join-timeout"; "_" may stand for "-"). A flag given on the command line wins over
// the file. Values: strings, numbers, booleans, durations as strings ("5s"), and arrays for the
// repeatable flags (join, key).
func applyConfigFile(cmd *cobra.Command, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %v", err)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("--config %s: not a JSON object: %v", path, err)
	}
	fs := cmd.Flags()
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { onCommandLine[f.Name] = true })
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if key == "memberlist" {
			if err := applyConfigSettings(fs, raw[key]); err != nil {
				return fmt.Errorf("--config %s: key %q: %v", path, key, err)
			}
			continue
		}
		name := strings.ReplaceAll(key, "_", "-")
		f := fs.Lookup(name)
		if f == nil || name == "config" || name == "help" {
			hint := ""
			if best := closestFlag(cmd, name); best != "" && best != "config" {
				hint = fmt.Sprintf(" (did you mean %q?)", best)
			}
			return fmt.Errorf("--config %s: unknown key %q%s", path, key, hint)
		}
		if onCommandLine[name] {
			continue
		}
		values, err := configValues(raw[key], f.Value.Type())
		if err != nil {
			return fmt.Errorf("--config %s: key %q: %v", path, key, err)
		}
		for _, v := range values {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("--config %s: key %q: %v", path, key, err)
			}
		}
	}
	return nil
}

// applyConfigSettings turns the file's "memberlist" object ({"probe_interval": "2s",
// "gossip_nodes": 4}) into --set values, placed before any --set of the command line so those
// win. Values are JSON strings, numbers or booleans; checked when the config is built.
func applyConfigSettings(fs *pflag.FlagSet, msg json.RawMessage) error {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(msg))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil {
		return fmt.Errorf("want an object of docs/config.md keys: %v", err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var file []string
	for _, k := range keys {
		switch x := obj[k].(type) {
		case string:
			file = append(file, k+"="+x)
		case json.Number:
			file = append(file, k+"="+x.String())
		case bool:
			file = append(file, k+"="+strconv.FormatBool(x))
		default:
			return fmt.Errorf("%s: want a string, number or boolean", k)
		}
	}
	sv, ok := fs.Lookup("set").Value.(pflag.SliceValue)
	if !ok {
		return fmt.Errorf("no --set flag")
	}
	return sv.Replace(append(file, sv.GetSlice()...))
}

// configValues turns one JSON value into the strings pflag parses, one per Set call.
func configValues(msg json.RawMessage, typ string) ([]string, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(msg))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	repeatable := strings.HasSuffix(typ, "Slice") || strings.HasSuffix(typ, "Array")
	if arr, ok := v.([]any); ok {
		if !repeatable {
			return nil, fmt.Errorf("want one %s, not a list", typ)
		}
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, err := scalar(e, "string")
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	want := typ
	if repeatable {
		want = "string"
	}
	s, err := scalar(v, want)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalar(v any, typ string) (string, error) {
	switch x := v.(type) {
	case string:
		if typ == "bool" || typ == "int" {
			return "", fmt.Errorf("want a JSON %s, not the string %q", map[string]string{"bool": "true or false", "int": "number"}[typ], x)
		}
		return x, nil
	case bool:
		if typ != "bool" {
			return "", fmt.Errorf("want a %s, not %v", typ, x)
		}
		return strconv.FormatBool(x), nil
	case json.Number:
		if typ != "int" {
			return "", fmt.Errorf("want a %s, not the number %s", typ, x)
		}
		return x.String(), nil
	case nil:
		return "", fmt.Errorf("null is not a value")
	}
	return "", fmt.Errorf("want a %s", typ)
}
