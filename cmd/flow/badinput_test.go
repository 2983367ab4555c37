package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// The bad-input corpus, testdata/badinput: workflow files, vars files and command lines that flow
// must refuse. Each case runs `flow` as a real process, in a directory of its own holding only
// its files, and must:
//   - exit with the code it names (2, invalid input, for all but a few);
//   - name where the first problem is on the first line of its standard error: FILE:LINE:COL for
//     a file, the flag for a command line;
//   - neither panic nor hang (each has a deadline);
//   - run nothing and write nothing: every workflow has a step that would create a file, and the
//     directory must hold exactly what it held before (no output, no .flow state dir).
//
// workflows.txtar holds workflow files, each run with `flow run --local FILE`; vars.txtar holds
// vars files, each run with `flow run --local --vars-file FILE workflow.yaml` (its workflow.yaml);
// commands.txtar lists command lines in its comment, run among its files. A YAML file states what
// is expected on its first line:
//
//	# want EXIT LINE:COL TEXT
//
// (TEXT: a part of the message); a file that cannot hold a comment (JSON, or bytes no text editor
// keeps: NAME.q holds the file NAME as a Go string literal) has its expectation in NAME.want.

// badInputCase is one bad input and what flow must do with it.
type badInputCase struct {
	name  string
	files map[string][]byte // the files of the case's directory
	args  []string
	exit  int
	where string // FILE:LINE:COL, or a flag, that the first line of standard error must hold
	text  string // a part of that line
}

var wantLine = regexp.MustCompile(`^# want (\d+) (\S+) ?(.*)$`)

// TestBadInput runs the corpus.
func TestBadInput(t *testing.T) {
	flow, err := exec.LookPath("flow") // the test binary, as testscript.Main installs it
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "testdata", "badinput")
	var cases []badInputCase
	cases = append(cases, fileCases(t, filepath.Join(dir, "workflows.txtar"), nil, func(name string) []string {
		return []string{"run", "--local", name}
	})...)
	cases = append(cases, fileCases(t, filepath.Join(dir, "vars.txtar"), []string{"workflow.yaml"}, func(name string) []string {
		return []string{"run", "--local", "--vars-file", name, "workflow.yaml"}
	})...)
	cases = append(cases, commandCases(t, filepath.Join(dir, "commands.txtar"))...)
	if len(cases) < 200 {
		t.Errorf("the corpus has %d cases; it should keep at least 200", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runBadInput(t, flow, c)
		})
	}
}

// fileCases reads an archive of bad files, one case a file; shared names files every case gets.
func fileCases(t *testing.T, path string, shared []string, args func(name string) []string) []badInputCase {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files, wants := map[string][]byte{}, map[string]string{}
	var order []string
	for _, f := range ar.Files {
		switch {
		case strings.HasSuffix(f.Name, ".want"):
			wants[strings.TrimSuffix(f.Name, ".want")] = "want " + strings.TrimSpace(string(f.Data))
		case strings.HasSuffix(f.Name, ".q"):
			s, err := strconv.Unquote(strings.TrimSpace(string(f.Data)))
			if err != nil {
				t.Fatalf("%s: %s: %v", path, f.Name, err)
			}
			name := strings.TrimSuffix(f.Name, ".q")
			files[name] = []byte(s)
			order = append(order, name)
		default:
			files[f.Name] = f.Data
			order = append(order, f.Name)
		}
	}
	var cases []badInputCase
	for _, name := range order {
		if slices.Contains(shared, name) {
			continue
		}
		want, ok := wants[name]
		if !ok {
			first, _, _ := strings.Cut(string(files[name]), "\n")
			want, ok = strings.CutPrefix(first, "# ")
		}
		m := wantLine.FindStringSubmatch("# " + want)
		if !ok || m == nil {
			t.Fatalf("%s: %s states no expectation (# want EXIT LINE:COL TEXT)", path, name)
		}
		c := badInputCase{name: strings.TrimSuffix(filepath.Base(path), ".txtar") + "/" + name,
			files: map[string][]byte{name: files[name]}, args: args(name), where: name + ":" + m[2], text: m[3]}
		c.exit, _ = strconv.Atoi(m[1])
		for _, s := range shared {
			c.files[s] = files[s]
		}
		cases = append(cases, c)
	}
	return cases
}

// commandCases reads an archive whose comment lists command lines, one a line:
//
//	NAME EXIT WHERE TEXT... :: ARGS...
//
// WHERE is the flag or FILE:LINE:COL the first line of standard error must hold, TEXT a part of
// it; every case's directory holds all of the archive's files.
func commandCases(t *testing.T, path string) []badInputCase {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	var cases []badInputCase
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, args, ok := strings.Cut(line, " :: ")
		f := strings.Fields(head)
		if !ok || len(f) < 3 {
			t.Fatalf("%s: %q is not NAME EXIT WHERE TEXT... :: ARGS...", path, line)
		}
		c := badInputCase{name: "commands/" + f[0], files: files, args: strings.Fields(args), where: f[2], text: strings.Join(f[3:], " ")}
		c.exit, _ = strconv.Atoi(f[1])
		cases = append(cases, c)
	}
	return cases
}

// runBadInput runs one case in a directory of its own and checks what it did.
func runBadInput(t *testing.T, flow string, c badInputCase) {
	dir := t.TempDir()
	for name, data := range c.files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := listTree(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, flow, c.args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1", "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("flow %s did not finish within 30s", strings.Join(c.args, " "))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	first, _, _ := strings.Cut(out, "\n")
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Fatalf("flow %s panicked:\n%s", strings.Join(c.args, " "), out)
	}
	if code != c.exit {
		t.Errorf("flow %s exited %d, want %d; stderr:\n%s", strings.Join(c.args, " "), code, c.exit, out)
	}
	if !strings.Contains(first, c.where) || !strings.Contains(first, c.text) {
		t.Errorf("flow %s: first line of stderr\n  %s\nwant it to hold %q and %q", strings.Join(c.args, " "), first, c.where, c.text)
	} else if file, pos, isFile := strings.Cut(c.where, ":"); isFile && !strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(first, "flow: "), "--vars-file: "), file+":"+pos+": ") {
		t.Errorf("flow %s: first line of stderr\n  %s\nwant it to start with %s: ", strings.Join(c.args, " "), first, c.where)
	}
	if after := listTree(t, dir); !slices.Equal(before, after) {
		t.Errorf("flow %s changed its directory: before %v, after %v", strings.Join(c.args, " "), before, after)
	}
}

// listTree returns every path under dir, with its size for files.
func listTree(t *testing.T, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, rel+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
