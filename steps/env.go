package steps

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/flow-infra/flow/engine"
)

func init() { Register(new(envWrite)) }

// envWrite writes a dotenv file.
type envWrite struct {
	Path   string            `flow:"path,required" doc:"Where to write the file (under --root when set)."`
	Values map[string]string `flow:"values" doc:"Variables to write: names are [A-Za-z_][A-Za-z0-9_]*, values any text."`
	Mode   os.FileMode       `flow:"mode" default:"0600" doc:"The file's permission bits, whatever the umask."`
}

type envWritten struct {
	Path    string `flow:"path" doc:"The file written (with --root, the real location)."`
	Changed bool   `flow:"changed" doc:"Whether the file was replaced: false when it already held exactly these variables with this mode, and was left untouched."`
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
			"modification time) and changed is false, so a step that reloads the application can run only when " +
			"the settings changed (if: ${{ steps.ID.changed }}).",
		New:         func() Step { return new(envWrite) },
		Output:      envWritten{},
		WritesFiles: true,
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (s *envWrite) Validate() error {
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
	if err := s.Validate(); err != nil {
		return []engine.Warning{{Field: "values", Msg: err.Error()}}
	}
	return nil
}

func (s *envWrite) Plan(rt *engine.Runtime, _ Known) []string {
	if s.Values == nil { // not known until the run
		return []string{fmt.Sprintf("write %s (mode %#o), unless it already holds these variables", rt.Path(s.Path), s.Mode)}
	}
	return []string{fmt.Sprintf("write %s (mode %#o, %d variables), unless it already holds them", rt.Path(s.Path), s.Mode, len(s.Values))}
}

func (s *envWrite) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, changed, err := writeStepFile(rt, s.Path, []byte(Dotenv(s.Values)), s.Mode)
	if err != nil {
		return nil, err
	}
	return envWritten{Path: path, Changed: changed}, nil
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
