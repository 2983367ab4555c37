package steps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-infra/flow/engine"
)

// tricky values that a dotenv file must carry exactly.
var tricky = map[string]string{
	"EMPTY":     "",
	"SPACES":    "  leading and trailing  ",
	"QUOTES":    `it's "double" and 'single'`,
	"DOLLAR":    "$HOME ${HOME} $(id) `id`",
	"BACKSLASH": `C:\path\to \n not a newline \\ two`,
	"NEWLINES":  "line one\nline two\n\nafter a blank line\n",
	"HASH":      "# not a comment ; nor this",
	"UNICODE":   "héllo 世界 \t tab",
	"TRAILING":  `ends with a backslash \`,
	"CR":        "carriage\rreturn",
}

func runStep(t *testing.T, name string, args map[string]any, root string) (map[string]any, error) {
	t.Helper()
	typ, ok := Default.Lookup(name)
	if !ok {
		t.Fatalf("no step type %s", name)
	}
	return typ.Run(context.Background(), &engine.Runtime{Workflow: "w", Step: "s", Root: root}, args)
}

func stringMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestEnvWriteRoundTripsThroughSh(t *testing.T) {
	dir := t.TempDir()
	out, err := runStep(t, "env.write", map[string]any{"path": "app.env", "values": stringMap(tricky), "mode": "0640"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := out["path"].(string)
	if path != filepath.Join(dir, "app.env") {
		t.Errorf("path %q, want under the root", path)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, %v; want 0640", st.Mode(), err)
	}
	for k, want := range tricky {
		// printf %s prints the value exactly, trailing newlines included; the x guards them
		// against the command substitution's trimming.
		cmd := exec.Command("sh", "-c", `. "$1" && eval "printf '%sx' \"\$$2\""`, "sh", path, k)
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: sh: %v", k, err)
		}
		if string(got) != want+"x" {
			t.Errorf("%s: sh read %q, want %q", k, strings.TrimSuffix(string(got), "x"), want)
		}
	}
}

func TestEnvWriteRoundTripsThroughSystemd(t *testing.T) {
	got := parseEnvironmentFile(t, Dotenv(tricky))
	for k, want := range tricky {
		if got[k] != want {
			t.Errorf("%s: systemd would read %q, want %q", k, got[k], want)
		}
	}
	if len(got) != len(tricky) {
		t.Errorf("systemd would read %d variables, want %d", len(got), len(tricky))
	}
}

// parseEnvironmentFile reads a file the way systemd's EnvironmentFile= does (src/basic/env-file.c,
// parse_env_file_internal): KEY=VALUE lines, # and ; comments, unquoted values with trailing
// whitespace dropped and \X taken literally, '...' taken literally, "..." with \" \\ \` \$
// unescaped, other backslashes kept, and newlines kept inside quotes.
func parseEnvironmentFile(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		single
		double
		doubleEscape
		comment
	)
	state := preKey
	var k, v []rune
	trailing := 0
	push := func() {
		out[strings.TrimRight(string(k), " \t")] = string(v[:len(v)-trailing])
		k, v, trailing = nil, nil, 0
	}
	for _, c := range s {
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			default:
				state, k = key, []rune{c}
			}
		case key:
			switch c {
			case '\n', '\r':
				state, k = preKey, nil
			case '=':
				state = preValue
			default:
				k = append(k, c)
			}
		case preValue:
			switch c {
			case '\n', '\r':
				state = preKey
				push()
			case '\'':
				state = single
			case '"':
				state = double
			case '\\':
				state = valueEscape
			case ' ', '\t':
			default:
				state, v = value, append(v, c)
			}
		case value:
			switch c {
			case '\n', '\r':
				state = preKey
				push()
			case '\\':
				state, trailing = valueEscape, 0
			case ' ', '\t':
				trailing++
				v = append(v, c)
			default:
				trailing = 0
				v = append(v, c)
			}
		case valueEscape:
			state = value
			if c != '\n' {
				v = append(v, c)
			}
		case single:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case double:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleEscape
			default:
				v = append(v, c)
			}
		case doubleEscape:
			state = double
			switch c {
			case '"', '\\', '`', '$':
				v = append(v, c)
			case '\n':
			default:
				v = append(v, '\\', c)
			}
		case comment:
			if c == '\n' || c == '\r' {
				state = preKey
			}
		}
	}
	if state == preValue || state == value {
		push()
	}
	if state == single || state == double || state == doubleEscape || state == valueEscape {
		t.Fatalf("systemd would stop at an unterminated value")
	}
	return out
}

func TestEnvWriteRejectsBadNamesAndKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.env")
	if err := os.WriteFile(path, []byte("OLD=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runStep(t, "env.write", map[string]any{"path": path, "values": map[string]any{"BAD-NAME": "x", "OK": "y"}, "mode": "0600"}, "")
	if err == nil || !strings.Contains(err.Error(), `"BAD-NAME" is not a variable name`) {
		t.Fatalf("err %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "OLD=1\n" {
		t.Errorf("the old file changed: %q", data)
	}
	// Nothing but the file: no temporary left behind by a failed write either.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
}

func TestEnvWriteFailureLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		t.Skip("root writes into read-only directories")
	}
	if _, err := runStep(t, "env.write", map[string]any{"path": filepath.Join(ro, "app.env"), "values": map[string]any{"A": "1"}, "mode": "0600"}, ""); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
	if entries, _ := os.ReadDir(ro); len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

func TestExec(t *testing.T) {
	out, err := runStep(t, "exec", map[string]any{
		"argv": []any{"sh", "-c", `printf '%s|%s' "$GREETING" "$FLOW_ROOT"; echo warn >&2`},
		"env":  map[string]any{"GREETING": "hi there"},
	}, "/some/root")
	if err != nil {
		t.Fatal(err)
	}
	if out["stdout"] != "hi there|/some/root" || out["stderr"] != "warn\n" || out["exit_code"] != 0 {
		t.Errorf("outputs %v", out)
	}
	_, err = runStep(t, "exec", map[string]any{"argv": []any{"sh", "-c", "echo one >&2; echo two >&2; exit 7"}}, "")
	if err == nil || err.Error() != "exec: sh exited with status 7; the end of its stderr:\none\ntwo" {
		t.Errorf("error %q", err)
	}
	if _, err := runStep(t, "exec", map[string]any{"argv": []any{"/no/such/program"}}, ""); err == nil {
		t.Error("a missing program succeeded")
	}
}

func TestExecHonoursCancellation(t *testing.T) {
	typ, _ := Default.Lookup("exec")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := typ.Run(ctx, &engine.Runtime{}, map[string]any{"argv": []any{"sleep", "30"}})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("err %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancellation took %s", time.Since(start))
	}
}

// stepWithEveryType exercises the registry's derivation of types from struct tags.
type stepWithEveryType struct {
	Name    string            `flow:"name,required" doc:"a name"`
	Count   int               `flow:"count" default:"3"`
	On      bool              `flow:"on" default:"true"`
	Wait    time.Duration     `flow:"wait" default:"30s"`
	Mode    os.FileMode       `flow:"mode" default:"0644"`
	Tags    map[string]string `flow:"tags"`
	List    []string          `flow:"list" default:"[a, b]"`
	Filters []struct {
		Name   string   `flow:"name,required"`
		Values []string `flow:"values"`
	} `flow:"filters"`
	Token    string `flow:"token,secret"`
	Untagged string // no flow tag: not an input
}

type everyOutput struct {
	Echo string `flow:"echo" doc:"the name"`
}

func (*stepWithEveryType) Info() Info {
	return Info{Name: "test.every", New: func() Step { return new(stepWithEveryType) }, Output: everyOutput{}}
}

func (s *stepWithEveryType) Run(context.Context, *engine.Runtime) (any, error) {
	return everyOutput{Echo: s.Name + "/" + s.Wait.String() + "/" + s.Mode.String() + "/" + strings.Join(s.List, ",") + "/" + s.Filters[0].Name}, nil
}

func TestRegistryDerivesTypesFromStructs(t *testing.T) {
	r := NewRegistry()
	r.Register(new(stepWithEveryType))
	typ, _ := r.Lookup("test.every")
	var got []string
	for _, f := range typ.Inputs() {
		got = append(got, f.Name+":"+f.Type.String())
		if f.Required {
			got[len(got)-1] += "!"
		}
		if f.Secret {
			got[len(got)-1] += "(secret)"
		}
	}
	want := "name:string! count:int on:bool wait:string mode:string tags:map<string> list:list<string> filters:list<{name: string, values: list<string>}> token:string(secret)"
	if strings.Join(got, " ") != want {
		t.Errorf("inputs\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	args := map[string]any{"name": "n", "filters": []any{map[string]any{"name": "f", "values": []any{"v"}}}}
	for _, f := range typ.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	out, err := typ.Run(context.Background(), &engine.Runtime{}, args)
	if err != nil {
		t.Fatal(err)
	}
	if out["echo"] != "n/30s/-rw-r--r--/a,b/f" {
		t.Errorf("echo %q", out["echo"])
	}
	for _, bad := range []func(){
		func() { r.Register(new(stepWithEveryType)) },
		func() { NewRegistry().Register(new(noName)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			bad()
		}()
	}
}

type noName struct{}

func (*noName) Info() Info                                        { return Info{} }
func (*noName) Run(context.Context, *engine.Runtime) (any, error) { return nil, nil }
