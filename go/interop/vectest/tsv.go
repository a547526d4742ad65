package vectest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Vector kinds.
const (
	KindMsg    = "msg"
	KindPacket = "packet"
	KindStream = "stream"
	KindLZW    = "lzw"
)

// Ints styles.
const (
	IntsLegacy = "legacy"
	IntsV2     = "v2"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Params are the decoded `params` column.
type Params struct {
	Ints           string   // "", "legacy" or "v2"
	Label          []byte   // nil: no label
	HasLabel       bool     // a label= key was present
	Keys           [][]byte // receiver's keyring, primary first
	VerifyIncoming bool     // default true
	Reencode       int      // -1: not given (kind default), 0 or 1
	Error          bool
}

// DefaultParams returns params with every key absent.
func DefaultParams() Params {
	return Params{VerifyIncoming: true, Reencode: -1}
}

// ReencodeWanted applies the kind default (1 for msg, 0 otherwise).
func (p Params) ReencodeWanted(kind string) bool {
	if p.Reencode >= 0 {
		return p.Reencode == 1
	}
	return kind == KindMsg
}

// LabelString returns the label as a Go string ("" when absent).
func (p Params) LabelString() string { return string(p.Label) }

// String renders params in the canonical key order, or "-" when empty.
func (p Params) String() string {
	var kv []string
	if p.Ints != "" {
		kv = append(kv, "ints="+p.Ints)
	}
	if p.HasLabel {
		kv = append(kv, "label="+hex.EncodeToString(p.Label))
	}
	if len(p.Keys) > 0 {
		ks := make([]string, len(p.Keys))
		for i, k := range p.Keys {
			ks[i] = hex.EncodeToString(k)
		}
		kv = append(kv, "keys="+strings.Join(ks, "|"))
	}
	if !p.VerifyIncoming {
		kv = append(kv, "verify_incoming=0")
	}
	if p.Reencode >= 0 {
		kv = append(kv, "reencode="+strconv.Itoa(p.Reencode))
	}
	if p.Error {
		kv = append(kv, "error=1")
	}
	if len(kv) == 0 {
		return "-"
	}
	return strings.Join(kv, ",")
}

// ParseParams parses the params column strictly.
func ParseParams(s string) (Params, error) {
	p := DefaultParams()
	if s == "-" {
		return p, nil
	}
	if s == "" {
		return p, fmt.Errorf("empty params (use -)")
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return p, fmt.Errorf("param %q is not key=value", item)
		}
		if seen[k] {
			return p, fmt.Errorf("duplicate param %q", k)
		}
		seen[k] = true
		switch k {
		case "ints":
			if v != IntsLegacy && v != IntsV2 {
				return p, fmt.Errorf("bad ints=%q", v)
			}
			p.Ints = v
		case "label":
			b, err := strictHex(v)
			if err != nil {
				return p, fmt.Errorf("label: %v", err)
			}
			p.Label, p.HasLabel = b, true
		case "keys":
			for _, kh := range strings.Split(v, "|") {
				b, err := strictHex(kh)
				if err != nil || len(b) == 0 {
					return p, fmt.Errorf("bad key %q", kh)
				}
				p.Keys = append(p.Keys, b)
			}
		case "verify_incoming":
			b, err := bit(v)
			if err != nil {
				return p, err
			}
			p.VerifyIncoming = b == 1
		case "reencode":
			b, err := bit(v)
			if err != nil {
				return p, err
			}
			p.Reencode = b
		case "error":
			if v != "1" {
				return p, fmt.Errorf("bad error=%q", v)
			}
			p.Error = true
		default:
			return p, fmt.Errorf("unknown param %q", k)
		}
	}
	return p, nil
}

func bit(v string) (int, error) {
	switch v {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	}
	return 0, fmt.Errorf("expected 0 or 1, got %q", v)
}

func strictHex(s string) ([]byte, error) {
	if s != strings.ToLower(s) {
		return nil, fmt.Errorf("hex must be lowercase")
	}
	return hex.DecodeString(s)
}

// Vector is one line of a vector file.
type Vector struct {
	Name   string
	Kind   string
	Params Params
	Data   []byte // the hex column, decoded
	Expect string
	Line   int // 1-based line number when read from a file
}

// ReadFile reads and strictly validates a vector file.
func ReadFile(path string) ([]Vector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read parses vector lines from r.
func Read(r io.Reader) ([]Vector, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var out []Vector
	names := map[string]int{}
	line := 0
	for {
		s, err := br.ReadString('\n')
		if len(s) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
		line++
		s = strings.TrimSuffix(s, "\n")
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.HasSuffix(s, "\r") {
			return nil, fmt.Errorf("line %d: CR line ending", line)
		}
		f := strings.Split(s, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: %d fields, want 5", line, len(f))
		}
		v := Vector{Name: f[0], Kind: f[1], Expect: f[4], Line: line}
		if !nameRE.MatchString(v.Name) {
			return nil, fmt.Errorf("line %d: bad name %q", line, v.Name)
		}
		if prev, dup := names[v.Name]; dup {
			return nil, fmt.Errorf("line %d: duplicate name %q (first on line %d)", line, v.Name, prev)
		}
		names[v.Name] = line
		switch v.Kind {
		case KindMsg, KindPacket, KindStream, KindLZW:
		default:
			return nil, fmt.Errorf("line %d: bad kind %q", line, v.Kind)
		}
		if v.Params, err = ParseParams(f[2]); err != nil {
			return nil, fmt.Errorf("line %d (%s): %v", line, v.Name, err)
		}
		if v.Data, err = strictHex(f[3]); err != nil {
			return nil, fmt.Errorf("line %d (%s): hex: %v", line, v.Name, err)
		}
		if v.Expect == "" {
			return nil, fmt.Errorf("line %d (%s): empty expect", line, v.Name)
		}
		out = append(out, v)
		if err == io.EOF {
			break
		}
	}
	return out, nil
}

// Writer accumulates vectors and writes a file.
type Writer struct {
	header []string
	vecs   []Vector
	names  map[string]bool
}

// NewWriter returns an empty Writer; header lines are written as `# ...` comments.
func NewWriter(header ...string) *Writer {
	return &Writer{header: header, names: map[string]bool{}}
}

// Comment adds a comment line before the next vector.
func (w *Writer) Comment(format string, args ...any) {
	w.vecs = append(w.vecs, Vector{Kind: "#", Expect: fmt.Sprintf(format, args...)})
}

// Add appends a vector after validating it.
func (w *Writer) Add(v Vector) error {
	if !nameRE.MatchString(v.Name) {
		return fmt.Errorf("bad vector name %q", v.Name)
	}
	if w.names[v.Name] {
		return fmt.Errorf("duplicate vector name %q", v.Name)
	}
	switch v.Kind {
	case KindMsg, KindPacket, KindStream, KindLZW:
	default:
		return fmt.Errorf("%s: bad kind %q", v.Name, v.Kind)
	}
	if v.Expect == "" || strings.ContainsAny(v.Expect, "\t\n\r") {
		return fmt.Errorf("%s: expect empty or contains TAB/newline", v.Name)
	}
	w.names[v.Name] = true
	w.vecs = append(w.vecs, v)
	return nil
}

// Has reports whether a vector name is taken.
func (w *Writer) Has(name string) bool { return w.names[name] }

// Vectors returns the vectors added so far (without comments).
func (w *Writer) Vectors() []Vector {
	var out []Vector
	for _, v := range w.vecs {
		if v.Kind != "#" {
			out = append(out, v)
		}
	}
	return out
}

// Counts returns the number of vectors per kind.
func (w *Writer) Counts() map[string]int {
	c := map[string]int{}
	for _, v := range w.Vectors() {
		c[v.Kind]++
	}
	return c
}

// Bytes renders the file.
func (w *Writer) Bytes() []byte {
	var b bytes.Buffer
	for _, h := range w.header {
		b.WriteString("# " + h + "\n")
	}
	c := w.Counts()
	kinds := make([]string, 0, len(c))
	for k := range c {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var cs []string
	for _, k := range kinds {
		cs = append(cs, fmt.Sprintf("%s=%d", k, c[k]))
	}
	b.WriteString("# vectors: " + strings.Join(cs, " ") + "\n")
	for _, v := range w.vecs {
		if v.Kind == "#" {
			b.WriteString("\n# " + v.Expect + "\n")
			continue
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", v.Name, v.Kind, v.Params.String(), hex.EncodeToString(v.Data), v.Expect)
	}
	return b.Bytes()
}

// WriteFile writes the file atomically (temp file + rename).
func (w *Writer) WriteFile(path string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, w.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
