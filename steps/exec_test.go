//go:build unix

package steps

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-infra/flow/engine"
)

// execSecret is a secret that exec tests register and then look for, whole or in part.
const execSecret = "S3CRET-7f3k9q2zWv"

// runExecWithSecret runs exec with argv under a Runtime whose masker knows execSecret, as the
// engine would give it.
func runExecWithSecret(t *testing.T, ctx context.Context, argv ...string) (map[string]any, error) {
	t.Helper()
	typ, _ := Default.Lookup("exec")
	rt := engine.NewRuntime("w", "s", "", new(engine.Masker))
	rt.Secret(execSecret)
	args := make([]any, len(argv))
	for i, a := range argv {
		args[i] = a
	}
	return typ.Run(ctx, rt, map[string]any{"argv": args})
}

// leaksPartOf reports the longest piece (4 bytes or more) of secret found in s, or "".
func leaksPartOf(s, secret string) string {
	for n := len(secret); n >= 4; n-- {
		for i := 0; i+n <= len(secret); i++ {
			if strings.Contains(s, secret[i:i+n]) {
				return secret[i : i+n]
			}
		}
	}
	return ""
}

// TestExecErrorMasksBeforeCutting: a secret that the 2000-byte limit of the error's stderr tail
// would cut in two is masked whole first, so no part of it shows.
func TestExecErrorMasksBeforeCutting(t *testing.T) {
	_, err := runExecWithSecret(t, context.Background(), "sh", "-c",
		`printf '%s' "$1" >&2; printf '%1990s' '' | tr ' ' x >&2; exit 1`, "sh", execSecret)
	if err == nil {
		t.Fatal("exit 1 succeeded")
	}
	if part := leaksPartOf(err.Error(), execSecret); part != "" {
		t.Errorf("the error shows %q of the secret: %.80s...", part, err)
	}
	if want := "exec: sh exited with status 1: ***" + strings.Repeat("x", 1990); err.Error() != want {
		t.Errorf("error %.80q..., want %.80q...", err, want)
	}
}

func TestTailLines(t *testing.T) {
	long := strings.Repeat("é", 1500) // 3000 bytes
	for _, tc := range []struct{ name, in, want string }{
		{"short", "a\nb\n", "a\nb"},
		{"last lines", "1\n2\n3\n4\n", "3\n4"},
		// The first line is cut by the byte limit: left out.
		{"partial line dropped", strings.Repeat("y", 30) + "\nlast\n", "last"},
		// The cut falls exactly at a line's start: that line is whole.
		{"cut at a line start", strings.Repeat("y", 10) + "\n" + strings.Repeat("z", 21) + "\nend", strings.Repeat("z", 21) + "\nend"},
		// One line longer than the limit: its end, from a character boundary.
		{"one long line", long, "..." + strings.Repeat("é", 12)},
	} {
		if got := tailLines(tc.in, 2, 25); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestExecOutputCutAtALine: output past 1 MiB is cut back to its last whole line, so a secret
// straddling the limit leaves no part of itself for the engine's masking (which masks secrets
// whole) to miss.
func TestExecOutputCutAtALine(t *testing.T) {
	// Lines of 99 "a" and a newline up to 1 MiB - 5 bytes, then the secret across the limit.
	lines := outputLimit/100 - 1
	pad := outputLimit - 5 - lines*100
	script := `i=0; line=$(printf '%99s' '' | tr ' ' a); while [ $i -lt ` + strconv.Itoa(lines) + ` ]; do echo "$line"; i=$((i+1)); done;` +
		` printf '%` + strconv.Itoa(pad) + `s' '' | tr ' ' b; printf '%s\n' "$1"; echo more`
	out, err := runExecWithSecret(t, context.Background(), "sh", "-c", script, "sh", execSecret)
	if err != nil {
		t.Fatal(err)
	}
	stdout := out["stdout"].(string)
	if part := leaksPartOf(stdout, execSecret); part != "" {
		t.Errorf("stdout keeps %q of the secret", part)
	}
	want := strings.Repeat(strings.Repeat("a", 99)+"\n", lines) + "[output truncated at 1 MiB: the first " + strconv.Itoa(lines*100) + " bytes are kept, up to the last whole line]"
	if stdout != want {
		t.Errorf("stdout ends %q, want %q", stdout[max(0, len(stdout)-120):], want[len(want)-120:])
	}

	// No newline in the first MiB: nothing of that line is kept.
	out, err = runExecWithSecret(t, context.Background(), "sh", "-c",
		`printf '%`+strconv.Itoa(outputLimit-5)+`s' '' | tr ' ' b >&2; printf '%s\n' "$1" >&2; echo more >&2`, "sh", execSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["stderr"]; got != "[output truncated: its first line is longer than 1 MiB, and is left out]" {
		t.Errorf("stderr %.100q", got)
	}
}

func TestLimitedBuffer(t *testing.T) {
	var b limitedBuffer
	b.Write([]byte("first\n"))
	b.Write([]byte(strings.Repeat("x", outputLimit-6)))
	if got := b.String(); len(got) != outputLimit || b.truncated {
		t.Errorf("exactly 1 MiB: %d bytes, truncated %t", len(got), b.truncated)
	}
	b.Write([]byte("y"))
	if got := b.String(); got != "first\n[output truncated at 1 MiB: the first 6 bytes are kept, up to the last whole line]" {
		t.Errorf("past 1 MiB: %.100q", got)
	}
}

// killLater kills the background process whose pid is the last number in s when the test ends.
func killLater(t *testing.T, s string) {
	t.Helper()
	m := regexp.MustCompile(`(\d+)\s*$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no pid at the end of %q", s)
	}
	pid, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
}

// TestExecBackgroundChildHoldsTheOutput: a program that exits 0 but leaves a process holding its
// output (a setup script starting a daemon) succeeds, with what it wrote and a note in stderr;
// one that fails says so in its error.
func TestExecBackgroundChildHoldsTheOutput(t *testing.T) {
	ctx := context.WithValue(context.Background(), execOutputWaitKey{}, 50*time.Millisecond)
	out, err := runExecWithSecret(t, ctx, "sh", "-c", `sleep 10 & echo "$!"; echo started >&2`)
	if err != nil {
		t.Fatal(err)
	}
	killLater(t, out["stdout"].(string))
	want := "started\n[flow: a process it started still held its standard output and standard error 50ms after it exited, " +
		"so flow stopped reading; redirect a background process's output (e.g. daemon >/var/log/daemon.log 2>&1 &), or it fails when it next writes]\n"
	if out["stderr"] != want || out["exit_code"] != 0 {
		t.Errorf("stderr %q, exit code %v\nwant %q", out["stderr"], out["exit_code"], want)
	}

	// Only stderr held, and the program failed.
	_, err = runExecWithSecret(t, ctx, "sh", "-c", `sleep 10 >/dev/null & echo "$!" >&2; exit 3`)
	if err == nil {
		t.Fatal("exit 3 succeeded")
	}
	killLater(t, err.Error())
	wantPrefix := "exec: sh exited with status 3 (a process it started still held its standard error 50ms after it exited, so flow stopped reading; " +
		"redirect a background process's output (e.g. daemon >/var/log/daemon.log 2>&1 &), or it fails when it next writes): "
	if !strings.HasPrefix(err.Error(), wantPrefix) {
		t.Errorf("error %q\nwant it to begin %q", err, wantPrefix)
	}

	// A background process with its output redirected is not waited for, nor noted. Its shell's
	// fork holds the pipes until it has redirected them, which on a loaded machine can take longer
	// than 50ms: the wait here is long, as nothing holds the output once that is done.
	patient := context.WithValue(context.Background(), execOutputWaitKey{}, 30*time.Second)
	out, err = runExecWithSecret(t, patient, "sh", "-c", `sleep 10 >/dev/null 2>&1 & echo "$!"`)
	if err != nil {
		t.Fatal(err)
	}
	killLater(t, out["stdout"].(string))
	if out["stderr"] != "" {
		t.Errorf("stderr %q, want nothing", out["stderr"])
	}
}
