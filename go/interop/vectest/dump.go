package vectest

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Dump renders one mirror struct in the canonical dump format of
// tests/vectors/README.md: `name{Field=value ...}` with every field, sorted by the byte
// order of the Go field name.
func Dump(v any) string {
	name := WireName(v)
	if name == "" {
		panic(fmt.Sprintf("vectest.Dump: not a wire struct: %T", v))
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	rt := rv.Type()
	idx := make([]int, rt.NumField())
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return rt.Field(idx[a]).Name < rt.Field(idx[b]).Name })

	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteByte('{')
	for n, i := range idx {
		if n > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(rt.Field(i).Name)
		sb.WriteByte('=')
		sb.WriteString(dumpValue(rv.Field(i)))
	}
	sb.WriteByte('}')
	return sb.String()
}

func dumpValue(f reflect.Value) string {
	switch f.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(f.Uint(), 10)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.String:
		return DumpString(f.String())
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 {
			return DumpBytes(f.Bytes())
		}
	}
	panic(fmt.Sprintf("vectest.Dump: unsupported field kind %s", f.Kind()))
}

// DumpString renders a Go string: quoted when every byte is printable ASCII other than
// `"` and `\`, else x"<hex>".
func DumpString(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return `x"` + hex.EncodeToString([]byte(s)) + `"`
		}
	}
	return `"` + s + `"`
}

// DumpBytes renders a byte slice as 0x<hex> (nil and empty both as "0x").
func DumpBytes(b []byte) string {
	return "0x" + hex.EncodeToString(b)
}

// JoinDumps joins message dumps with the " ; " separator used by packet and stream
// vectors.
func JoinDumps(parts []string) string {
	return strings.Join(parts, " ; ")
}
