package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/flow-infra/flow/engine"
	"github.com/gofrs/flock"
)

func init() { Register(new(envWrite)) }

// envWrite writes a dotenv file.
type envWrite struct {
	Path   string            `flow:"path,required" doc:"Where to write the file (under --root when set)."`
	Values map[string]string `flow:"values" doc:"Variables to write: names are [A-Za-z_][A-Za-z0-9_]*, values any text."`
	Mode   os.FileMode       `flow:"mode" default:"0600" doc:"The file's permission bits, whatever the umask."`
	Reload []string          `flow:"reload" doc:"A command (argv) run when the file that was there was replaced (not when it is created: see created), with the variables added to its environment (and FLOW_ROOT with --root), before the file's lock is let go, e.g. [systemctl, restart, app]; empty: none. Its failure fails the step, and the next run reloads even if nothing changed (PATH.reload-owed marks it)."`
}

type envWritten struct {
	Path     string `flow:"path" doc:"The file written (with --root, the real location)."`
	Changed  bool   `flow:"changed" doc:"Whether the file was replaced: false when it already held exactly these variables with this mode, and was left untouched."`
	Created  bool   `flow:"created" doc:"Whether the file was created: there was none before. A new file runs no reload, as nothing can have read the old one; the application's first start is the workflow's to order (boot.yaml reloads after its one-time setup)."`
	Reloaded bool   `flow:"reloaded" doc:"Whether the reload command ran (and succeeded): a file that was there was replaced, or an earlier run's reload failed, and reload is set."`
}

func (*envWrite) Info() Info {
	return Info{
		Name: "env.write",
		Doc: "Write a dotenv file, replaced atomically (a temporary file in the same directory, fsync, rename), " +
			"so a crash leaves the old file or the new one, never a part. Each variable is written as " +
			`NAME="value" in key order, with backslash, double quote, dollar and backquote escaped by a backslash ` +
			"and newlines kept inside the quotes: sourced by sh (`. FILE`) every value comes back exactly, " +
			"and systemd's EnvironmentFile= reads the same values (it unescapes the same four characters in " +
			"double quotes and keeps newlines inside them). Missing directories are created with mode 0755. " +
			"A file that already holds exactly this content with this mode is left untouched (same inode, same " +
			"modification time) and changed is false. When a file that was there was replaced, the reload command, if any, runs " +
			"(a file created, the first time, runs none: see the output created); when it fails, the step fails and " +
			"the next run reloads even if nothing changed (PATH.reload-owed, beside the file, says a reload is owed). " +
			"The comparison, the replacement and the reload hold the kernel's lock of PATH.lock (beside the file, " +
			"created mode 0644), so runs at the same moment (cloud-init's boot and a timer's) do them one after the " +
			"other: of two runs bringing one change, one replaces the file and reloads, the other finds it done.",
		New:         func() Step { return new(envWrite) },
		Output:      envWritten{},
		WritesFiles: true,
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// valuesProblems checks the variables' names and values.
func (s *envWrite) valuesProblems() error {
	var bad engine.FieldErrors
	for _, k := range slices.Sorted(maps.Keys(s.Values)) {
		if !envName.MatchString(k) {
			bad = append(bad, field("values", k).keyErrorf("%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", k))
		}
		if strings.ContainsRune(s.Values[k], 0) {
			bad = append(bad, field("values", k).errorf("the value of %s contains a NUL byte, which no environment can hold", k))
		}
	}
	if len(bad) > 0 {
		return bad
	}
	return nil
}

func (s *envWrite) Lint() []engine.Warning {
	if err := s.valuesProblems(); err != nil {
		return []engine.Warning{{Field: "values", Msg: err.Error()}}
	}
	return nil
}

func (s *envWrite) Plan(rt *engine.Runtime, _ Known) []string {
	where := rt.Path(s.Path)
	lines := []string{"lock " + where + ".lock (waiting while another run holds it)"}
	if s.Values == nil { // not known until the run
		lines = append(lines, fmt.Sprintf("write %s (mode %#o), unless it already holds these variables", where, s.Mode))
	} else {
		lines = append(lines, fmt.Sprintf("write %s (mode %#o, %d variables), unless it already holds them", where, s.Mode, len(s.Values)))
	}
	if len(s.Reload) > 0 {
		lines = append(lines, "run "+strings.Join(s.Reload, " ")+" (only when the file was replaced, or an earlier reload failed)")
	}
	return lines
}

func (s *envWrite) Validate() error {
	if len(s.Reload) > 0 && s.Reload[0] == "" {
		return field("reload").errorf("must name a program, or be empty for none")
	}
	return s.valuesProblems()
}

func (s *envWrite) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lock, err := s.lock(ctx, rt)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	data := []byte(Dotenv(s.Values))
	_, statErr := os.Lstat(rt.Path(s.Path))
	created := errors.Is(statErr, fs.ErrNotExist)
	// A reload is owed when the file that was there is replaced, or when an earlier run replaced
	// it and its reload failed: the mark says so, written before the file is replaced and removed
	// once a reload succeeded, so neither a failed reload nor a crash between the two loses it.
	// A file that holds the values already is read once, here, and left alone.
	holds := !created && stepFileHolds(rt, s.Path, data, s.Mode)
	reload := len(s.Reload) > 0 && !created
	owed := reload && stepFileExists(rt, s.Path+reloadOwed)
	if reload && !owed && !holds {
		if _, _, err := writeStepFile(rt, s.Path+reloadOwed, []byte(reloadOwedText), 0o644); err != nil {
			return nil, err
		}
		owed = true
	}
	path, changed := rt.Path(s.Path), false
	if !holds {
		var err error
		if path, changed, err = writeStepFile(rt, s.Path, data, s.Mode); err != nil {
			return nil, err
		}
	}
	out := envWritten{Path: path, Changed: changed, Created: changed && created}
	if !reload || !owed {
		return out, nil
	}
	if _, err := (&execStep{Argv: s.Reload, Env: s.Values}).Run(ctx, rt); err != nil {
		if changed {
			return nil, fmt.Errorf("%s was replaced, and the reload failed (the next run reloads, even with no change): %w", path, err)
		}
		return nil, fmt.Errorf("the reload an earlier run of %s owed failed again (the next run tries again): %w", path, err)
	}
	if err := removeStepFile(rt, s.Path+reloadOwed); err != nil {
		return nil, fmt.Errorf("%s: the reload succeeded, but its mark could not be removed (the next run reloads again): %w", path, err)
	}
	out.Reloaded = true
	return out, nil
}

// reloadOwed is the suffix of the mark beside an env file whose reload is owed, and
// reloadOwedText what the mark says.
const (
	reloadOwed     = ".reload-owed"
	reloadOwedText = "flow (env.write): this file was replaced and its reload has not succeeded yet; the next run reloads.\n"
)

// lock takes the lock of the file, PATH.lock beside it, creating the directory first: with
// --root, inside the root.
func (s *envWrite) lock(ctx context.Context, rt *engine.Runtime) (*flock.Flock, error) {
	if err := mkdirStepDir(rt.Root, filepath.Dir(s.Path)); err != nil {
		if rt.Root != "" {
			return nil, fmt.Errorf("write %s under --root %s: %w", s.Path, rt.Root, err)
		}
		return nil, err
	}
	lock, err := lockFile(ctx, rt.Root, rt.Path(s.Path)+".lock", "another run writing "+s.Path)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", s.Path, rootEscape(err))
	}
	return lock, nil
}

// Dotenv renders values as a dotenv file: a header comment, then NAME="value" lines in key order,
// quoted so that sh and systemd's EnvironmentFile= both read back exactly the values given.
func Dotenv(values map[string]string) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by flow (env.write). Each value is double-quoted with \\ \" $ ` escaped.\n")
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(quoteReplacer.Replace(values[k]))
		b.WriteString("\"\n")
	}
	return b.String()
}

var quoteReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`")

var _ Step = (*envWrite)(nil)
