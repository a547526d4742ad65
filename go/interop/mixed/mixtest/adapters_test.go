package mixtest

import (
	"bytes"
	"flag"
	"go/format"
	"os"
	"path/filepath"
	"testing"
	"text/template"
)

var update = flag.Bool("update", false, "rewrite the adapters from adapter.go.tmpl")

// adapterVariant is what differs between the node adapters.
type adapterVariant struct {
	File      string // relative to mixtest/
	Doc       string
	Package   string
	Import    string
	What      string
	Kind      string
	ImplFlags string
	NoState   bool // memberlist.Node has no State (v0.1.5)
	NoLabels  bool // Config has no Label (v0.1.5)
	// Config.MetaMaxSize exists (libmemberlist only)
	MetaMaxSize bool
	// Config.CompressionAlgorithm exists (libmemberlist, grafana/memberlist)
	Snappy bool
}

var adapterVariants = []adapterVariant{
	{
		File: "ours/ours.go",
		Doc: "// Package ours is the adapter for libmemberlist's Go package (github.com/libmemberlist/libmemberlist/go),\n" +
			"// the same code as the real-memberlist adapters with another import.",
		Package: "ours", Import: `memberlist "github.com/libmemberlist/libmemberlist/go"`,
		What: "libmemberlist", Kind: "libmemberlist", ImplFlags: ", Snappy: true", MetaMaxSize: true, Snappy: true,
	},
	{
		File: "../grafana/theirs.go",
		Doc: "// Package grafana runs real grafana/memberlist nodes (the fork Loki, Mimir and Tempo run through\n" +
			"// dskit; replace in go.mod) in clusters with libmemberlist nodes (see ../mixtest).",
		Package: "grafana", Import: `"github.com/hashicorp/memberlist"`,
		What: "real grafana/memberlist", Kind: "grafana-memberlist", ImplFlags: ", Snappy: true", Snappy: true,
	},
	{
		File: "../v0.7.0/theirs.go",
		Doc: "// Package v070 runs real hashicorp/memberlist v0.7.0 nodes in clusters with libmemberlist\n" +
			"// nodes (see ../mixtest).",
		Package: "v070", Import: `"github.com/hashicorp/memberlist"`,
		What: "real memberlist v0.7.0", Kind: "hashicorp-v0.7.0",
	},
	{
		File: "../v0.1.5/theirs.go",
		Doc: "// Package v015 runs real hashicorp/memberlist v0.1.5 nodes in clusters with libmemberlist\n" +
			"// nodes (see ../mixtest).",
		Package: "v015", Import: `"github.com/hashicorp/memberlist"`,
		What: "real memberlist v0.1.5", Kind: "hashicorp-v0.1.5", ImplFlags: ", NoLabels: true, NoCRC: true",
		NoState: true, NoLabels: true,
	},
}

// The adapters are one template: a change made to one file and not the template (or the
// other way round) fails here.
func TestAdaptersMatchTemplate(t *testing.T) {
	tmpl := template.Must(template.ParseFiles("adapter.go.tmpl"))
	for _, v := range adapterVariants {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, v); err != nil {
			t.Fatal(err)
		}
		want, err := format.Source(b.Bytes())
		if err != nil {
			t.Fatalf("%s: the rendered template is not Go: %v\n%s", v.File, err, b.String())
		}
		path := filepath.FromSlash(v.File)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from adapter.go.tmpl: edit the template and run `go test -run Adapters -update .` in mixtest", v.File)
		}
	}
}
