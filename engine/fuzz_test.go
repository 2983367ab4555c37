package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader and checker, and plans what loads: none of it may
// panic, every error must name the file (a YAML syntax error its line and column too), and the
// printer must cope with every position. The seed corpus is
// testdata/fuzz/FuzzLoad plus the golden scripts' workflows and the bad-input corpus's, so plain
// `go test` runs them all.
func FuzzLoad(f *testing.F) {
	scripts, _ := filepath.Glob(filepath.Join("..", "testdata", "scripts", "*.txtar"))
	scripts = append(scripts, filepath.Join("..", "testdata", "badinput", "workflows.txtar"))
	for _, s := range scripts {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, part := range bytes.Split(data, []byte("\n-- ")) {
			if name, body, ok := bytes.Cut(part, []byte(" --\n")); ok && bytes.HasSuffix(name, []byte(".yaml")) {
				f.Add(body)
			}
		}
	}
	f.Add(bigWorkflow(5))
	cat := catalog()
	f.Fuzz(func(t *testing.T, src []byte) {
		wf, err := Load("f.yaml", src, cat)
		if err != nil {
			var list Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "f.yaml" {
					t.Fatalf("error without the file: %v", e)
				}
				if e.Rule == RuleYAMLSyntax && (e.Pos.Line < 1 || e.Pos.Col < 1) {
					t.Fatalf("YAML syntax error without its line and column: %v", e)
				}
			}
			var out strings.Builder
			PrettyPrint(&out, err, map[string][]byte{"f.yaml": src}, false)
			return
		}
		m := new(Masker)
		inputs, err := wf.ResolveInputs(nil, nil, m)
		if err != nil {
			return
		}
		_ = Plan(context.Background(), wf, Options{Inputs: inputs, Masker: m})
	})
}

// FuzzVars feeds arbitrary bytes to the vars file reader, as YAML and as JSON: none of it may
// panic, and every error is one the CLI can print (positioned ones name the file).
func FuzzVars(f *testing.F) {
	for _, seed := range []string{"client: acme\n", "params: {A: '1'}\nn: 3\n", `{"client": "acme", "n": 1.5}`,
		"a: &x [*x]\n", "a: !foo x\n", "- a\n", "a: [1, 2\n", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, name := range []string{"v.yaml", "v.json"} {
			_, err := parseVars(name, src)
			var list Errors
			if errors.As(err, &list) {
				for _, e := range list {
					if e.Pos.File != name {
						t.Fatalf("error without the file: %v", e)
					}
					if e.Rule == RuleYAMLSyntax && (e.Pos.Line < 1 || e.Pos.Col < 1) {
						t.Fatalf("YAML syntax error without its line and column: %v", e)
					}
				}
			}
		}
	})
}
