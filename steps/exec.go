package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/flow-infra/flow/engine"
)

func init() { Register(new(execStep)) }

// execStep runs a program.
type execStep struct {
	Argv []string          `flow:"argv,required" doc:"The program and its arguments, as a list: never a shell string."`
	Env  map[string]string `flow:"env" doc:"Variables added to the program's environment."`
	Dir  string            `flow:"dir" doc:"The working directory (default: flow's)."`
}

type execResult struct {
	ExitCode int    `flow:"exit_code" doc:"The program's exit status."`
	Stdout   string `flow:"stdout" doc:"What it wrote to standard output (the first 1 MiB)."`
	Stderr   string `flow:"stderr" doc:"What it wrote to standard error (the first 1 MiB)."`
}

func (*execStep) Info() Info {
	return Info{
		Name: "exec",
		Doc: "Run a program with arguments, without a shell. A non-zero exit fails the step, with the end of " +
			"its standard error in the message (secrets masked). Cancellation sends SIGTERM, then SIGKILL after 5s. " +
			"With --root, the program gets FLOW_ROOT set to it, so scripts can write under it too.",
		New:    func() Step { return new(execStep) },
		Output: execResult{},
	}
}

func (s *execStep) Validate() error {
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		return errors.New("argv must name a program")
	}
	for k := range s.Env {
		if !envName.MatchString(k) {
			return fmt.Errorf("env: %q is not a variable name", k)
		}
	}
	return nil
}

func (s *execStep) Plan(rt *engine.Runtime) []string {
	return []string{"run " + strings.Join(s.Argv, " ")}
}

// outputLimit caps how much of a program's output a step keeps.
const outputLimit = 1 << 20

func (s *execStep) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	cmd := exec.CommandContext(ctx, s.Argv[0], s.Argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+s.Env[k])
	}
	if rt.Root != "" {
		cmd.Env = append(cmd.Env, "FLOW_ROOT="+rt.Root)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := execResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: stopped: %w", s.Argv[0], context.Cause(ctx))
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return nil, err
		}
		msg := fmt.Sprintf("%s exited with status %d", s.Argv[0], res.ExitCode)
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("%s was killed by %s", s.Argv[0], ws.Signal())
		}
		switch tail := rt.Mask(tailLines(res.Stderr, 10, 2000)); {
		case tail == "":
		case !strings.Contains(tail, "\n"):
			msg += ": " + tail
		default:
			msg += "; the end of its stderr:\n" + tail
		}
		return nil, errors.New(msg)
	}
	return res, nil
}

// tailLines returns at most n lines and max bytes of the end of s.
func tailLines(s string, n, max int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > max {
		s = s[len(s)-max:]
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// limitedBuffer keeps the first outputLimit bytes written to it and discards the rest.
type limitedBuffer struct {
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := outputLimit - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) String() string {
	if b.truncated {
		return b.buf.String() + "\n[output truncated at 1 MiB]"
	}
	return b.buf.String()
}

var _ Step = (*execStep)(nil)
