package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

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
	Stdout   string `flow:"stdout" doc:"What it wrote to standard output: at most its first 1 MiB, cut back to a whole line and followed by a note when there was more."`
	Stderr   string `flow:"stderr" doc:"What it wrote to standard error: at most its first 1 MiB, cut back to a whole line and followed by a note when there was more."`
}

func (*execStep) Info() Info {
	return Info{
		Name: "exec",
		Doc: "Run a program with arguments, without a shell. A non-zero exit fails the step, with the end of " +
			"its standard error in the message (secrets masked). Cancellation sends SIGTERM, then SIGKILL after 5s (on Windows the program is ended at once). " +
			"Output is read until the program exits, then for at most 5s more: a process it started in the background " +
			"(a daemon) that still holds its output is noted at the end of stderr, and does not fail the step. " +
			"With --root, the program gets FLOW_ROOT set to it, so scripts can write under it too.",
		New:         func() Step { return new(execStep) },
		Output:      execResult{},
		WritesFiles: true,
	}
}

func (s *execStep) Validate() error {
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		return field("argv").errorf("must name a program")
	}
	var bad engine.FieldErrors
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if !envName.MatchString(k) {
			bad = append(bad, field("env", k).keyErrorf("%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", k))
		}
	}
	if len(bad) > 0 {
		return bad
	}
	return nil
}

func (s *execStep) Plan(rt *engine.Runtime, _ Known) []string {
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
	cmd.Cancel = func() error { return terminate(cmd.Process) }
	cmd.WaitDelay = 5 * time.Second // after SIGTERM, SIGKILL
	res, held, err := runCapturing(ctx, cmd)
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
		if held != "" {
			msg += " (" + held + ")"
		}
		// Mask the whole text before taking its end: a cut made first could split a secret,
		// and the masker only recognises secrets whole.
		switch tail := tailLines(rt.Mask(res.Stderr), 10, 2000); {
		case tail == "":
		case !strings.Contains(tail, "\n"):
			msg += ": " + tail
		default:
			msg += "; the end of its stderr:\n" + tail
		}
		return nil, errors.New(msg)
	}
	if held != "" {
		if res.Stderr != "" && !strings.HasSuffix(res.Stderr, "\n") {
			res.Stderr += "\n"
		}
		res.Stderr += "[flow: " + held + "]\n"
	}
	return res, nil
}

// execOutputWait is how long exec reads a program's output after it exited. Output ends when
// every process holding the pipes has closed them; a process the program started in the
// background (a daemon from a setup script) may hold them for ever.
const execOutputWait = 5 * time.Second

type execOutputWaitKey struct{}

// runCapturing starts cmd, keeps its standard output and error, and waits for it to exit. It then
// reads what is left of the output for at most execOutputWait (tests shorten it through the
// context) and stops: held then says which output another process still held, and err is only
// the program's own. The pipes are flow's own because exec.Cmd's WaitDelay fails a program that
// exited 0 (ErrWaitDelay) and says nothing when it exited non-zero.
func runCapturing(ctx context.Context, cmd *exec.Cmd) (res execResult, held string, err error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return res, "", fmt.Errorf("%s: %w", cmd.Args[0], err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return res, "", fmt.Errorf("%s: %w", cmd.Args[0], err)
	}
	defer errR.Close()
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	// The program has its own copies of the write ends: once it and its children close them, the
	// reads below end.
	outW.Close()
	errW.Close()
	if err != nil {
		return res, "", err
	}
	var stdout, stderr limitedBuffer
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go func() { io.Copy(&stdout, outR); close(outDone) }()
	go func() { io.Copy(&stderr, errR); close(errDone) }()
	err = cmd.Wait()

	wait := execOutputWait
	if d, ok := ctx.Value(execOutputWaitKey{}).(time.Duration); ok {
		wait = d
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var expired bool
reading:
	for outDone != nil || errDone != nil {
		select {
		case <-outDone:
			outDone = nil
		case <-errDone:
			errDone = nil
		case <-timer.C:
			expired = true
			break reading
		case <-ctx.Done():
			break reading
		}
	}
	if outDone != nil || errDone != nil {
		// Closing the read ends ends the copies; what was read is kept.
		outR.Close()
		errR.Close()
		var still []string
		if outDone != nil {
			<-outDone
			still = append(still, "standard output")
		}
		if errDone != nil {
			<-errDone
			still = append(still, "standard error")
		}
		if expired {
			held = fmt.Sprintf("a process it started still held its %s %s after it exited, so flow stopped reading; "+
				"redirect a background process's output (e.g. daemon >/var/log/daemon.log 2>&1 &), or it fails when it next writes",
				strings.Join(still, " and "), wait)
		}
	}
	res = execResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	return res, held, err
}

// tailLines returns the end of s: its last n lines, in at most max bytes. When max falls inside a
// line, that partial line is left out, unless it is the only line: then its last max bytes are kept
// (from a character boundary), after "...". s must already be masked: a cut secret is not
// recognised.
func tailLines(s string, n, max int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > max {
		cut := len(s) - max
		switch i := strings.IndexByte(s[cut:], '\n'); {
		case s[cut-1] == '\n': // the cut is at the start of a line
		case i >= 0:
			cut += i + 1
		default:
			for cut < len(s) && !utf8.RuneStart(s[cut]) {
				cut++
			}
			s = "..." + s[cut:]
			cut = 0
		}
		s = s[cut:]
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

// String returns what was kept. Output that went past the limit is cut back to the last newline
// within it, and a note follows. The engine masks a secret only where it stands whole, so a cut
// must not split one: a secret on one line cannot span a newline, and each line of a multi-line
// secret is masked on its own (Masker.Add). When the first MiB holds no newline, nothing of it is
// kept: a secret may contain any byte (spaces too), so any tail of the line could be the start of
// one, and no shorter cut is safe without knowing what follows the limit. What is lost is little:
// a single line cut at 1 MiB (minified JSON, base64, binary) is not usable anyway.
func (b *limitedBuffer) String() string {
	if !b.truncated {
		return b.buf.String()
	}
	kept := b.buf.Bytes()
	kept = kept[:bytes.LastIndexByte(kept, '\n')+1]
	if len(kept) == 0 {
		return "[output truncated: its first line is longer than 1 MiB, and is left out]"
	}
	return string(kept) + fmt.Sprintf("[output truncated at 1 MiB: the first %d bytes are kept, up to the last whole line]", len(kept))
}

var _ Step = (*execStep)(nil)
