package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/engine"
)

// printer writes a run's events, masked already by the engine, as text or JSON lines.
type printer struct {
	out, errOut io.Writer
	json        *json.Encoder
	color       bool
	// live is true when text goes to a terminal, which shows a waiting step on a line rewritten in
	// place; waitShown when that line is on screen, to be cleared before the next.
	live, waitShown bool
}

func (c *cli) printer(format string) *printer {
	p := &printer{out: c.stdout, errOut: c.stderr, color: colorful(c.stdout)}
	if format == "json" {
		p.json = json.NewEncoder(c.stdout)
		p.json.SetEscapeHTML(false)
	} else {
		p.live = terminal(c.stdout)
	}
	return p
}

// progressEvery is how often a waiting step is worth an event to this printer: every 2s as a JSON
// event, every second on a terminal's live line, never in text that is not a terminal's (a log
// gets no line that says nothing new).
func (p *printer) progressEvery() time.Duration {
	switch {
	case p.json != nil:
		return 2 * time.Second
	case p.live:
		return time.Second
	}
	return 0
}

func (p *printer) event(e engine.Event) {
	if p.json != nil {
		p.json.Encode(e)
		return
	}
	if p.waitShown {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.waitShown = false
	}
	switch e.Event {
	case "run_started":
		if e.DryRun {
			fmt.Fprintf(p.out, "dry run of %s (%s): nothing is changed\n", e.Workflow, e.File)
		} else {
			fmt.Fprintf(p.out, "running %s (%s)\n", e.Workflow, e.File)
		}
		if e.Root != "" {
			fmt.Fprintf(p.out, "files go under %s\n", e.Root)
		}
	case "step_progress":
		if p.live {
			line := fmt.Sprintf("  %s %-16s %-16s waiting for %s, %ds", p.paint("2", "wait"), stepName(e), e.Uses, e.Waiting, int(*e.ElapsedMS/1000))
			fmt.Fprint(p.out, line)
			p.waitShown = true
		}
	case "step_retrying":
		fmt.Fprintf(p.out, "  %s %s: attempt %d failed: %s; trying again in %s\n",
			p.paint("33", "retry"), stepName(e), e.Attempt, firstLine(e.Error), ms(*e.RetryInMS))
	case "step_finished":
		p.stepLine(e)
	case "plan":
		p.planStep(e)
	case "run_finished":
		p.finished(e)
	}
}

func (p *printer) stepLine(e engine.Event) {
	status, summary := "", ""
	switch e.Status {
	case engine.StatusSucceeded:
		status, summary = p.paint("32", "ok  "), summarize(e.Outputs)
	case engine.StatusSkipped:
		status, summary = p.paint("33", "skip"), e.Reason
	case engine.StatusCancelled:
		status, summary = p.paint("33", "stop"), e.Error
	default:
		status, summary = p.paint("31", "FAIL"), firstLine(e.Error)
	}
	dur := ""
	if e.DurationMS != nil && e.Status != engine.StatusSkipped {
		dur = "  " + ms(*e.DurationMS)
	}
	if e.Attempt > 1 {
		dur += fmt.Sprintf(" (%d attempts)", e.Attempt)
	}
	fmt.Fprintf(p.out, "  %s %-16s %-16s %s%s%s\n", status, stepName(e), e.Uses, summary, dur, waited(e))
	if e.Status == engine.StatusFailed {
		if rest := restLines(e.Error); rest != "" {
			for _, l := range strings.Split(rest, "\n") {
				fmt.Fprintf(p.out, "       | %s\n", l)
			}
		}
	}
}

func (p *printer) planStep(e engine.Event) {
	head := fmt.Sprintf("  %s %s", stepName(e), p.paint("2", "("+e.Uses+")"))
	var notes []string
	if e.Reason != "" {
		notes = append(notes, "skipped: "+e.Reason)
	}
	if e.If != "" {
		notes = append(notes, "if "+e.If)
	}
	if e.ForEach != nil {
		notes = append(notes, fmt.Sprintf("for each item of %v", e.ForEach))
	}
	if e.Once != "" {
		notes = append(notes, "once per "+e.Once)
	}
	if e.Status == engine.StatusRead {
		notes = append(notes, "read now: it only reads")
	}
	if w := waited(e); w != "" {
		notes = append(notes, strings.Trim(w, " ()"))
	}
	if len(notes) > 0 {
		head += " " + strings.Join(notes, "; ")
	}
	fmt.Fprintln(p.out, head)
	keys := make([]string, 0, len(e.With))
	for k := range e.With {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(p.out, "      %s: %s\n", k, indentRest(formatValue(e.With[k]), "        "))
	}
	for _, call := range e.Calls {
		fmt.Fprintf(p.out, "      -> %s\n", call)
	}
	if e.Status == engine.StatusRead {
		fmt.Fprintf(p.out, "      <- %s\n", summarize(e.Outputs))
	}
}

func (p *printer) finished(e engine.Event) {
	if len(e.Outputs) > 0 {
		fmt.Fprintln(p.out, "outputs:")
		keys := make([]string, 0, len(e.Outputs))
		for k := range e.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if t, ok := table(e.Outputs[k], "    "); ok {
				fmt.Fprintf(p.out, "  %s:\n%s", k, t)
				continue
			}
			fmt.Fprintf(p.out, "  %s: %s\n", k, indentRest(formatValue(e.Outputs[k]), "    "))
		}
	}
	switch {
	case e.DryRun:
	case e.Status == engine.StatusSucceeded:
		fmt.Fprintf(p.out, "%s %s succeeded in %s\n", p.paint("32", "done:"), e.Workflow, ms(*e.DurationMS))
	default:
		fmt.Fprintf(p.errOut, "flow: run of %s %s: %s\n", e.Workflow, e.Status, e.Error)
	}
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// waited says what a step waited for when that was not simply the step before it.
func waited(e engine.Event) string {
	switch {
	case e.Needs == nil:
		return ""
	case len(*e.Needs) == 0:
		return "  (at the start)"
	}
	return "  (after " + strings.Join(*e.Needs, ", ") + ")"
}

func stepName(e engine.Event) string {
	if e.Iteration != nil {
		return fmt.Sprintf("%s[%d]", e.Step, *e.Iteration)
	}
	return e.Step
}

// summarize renders a step's outputs as k=v, short enough for one line: scalars, and the sizes
// of lists and maps that are not empty.
func summarize(outputs map[string]any) string {
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	n := 0
	for _, k := range keys {
		var s string
		switch v := outputs[k].(type) {
		case string:
			if v == "" || strings.Contains(v, "\n") || len(v) > 100 {
				continue
			}
			s = k + "=" + v
		case int, bool:
			s = fmt.Sprintf("%s=%v", k, v)
		case []any:
			if len(v) == 0 {
				continue
			}
			s = fmt.Sprintf("%s=[%d]", k, len(v))
		case map[string]any:
			if len(v) == 0 {
				continue
			}
			s = fmt.Sprintf("%s={%d}", k, len(v))
		default:
			continue
		}
		if n > 0 && n+len(s) > 100 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, s)
		n += len(s) + 1
	}
	return strings.Join(parts, " ")
}

// formatValue renders a value for people: strings bare unless they need quotes, the rest as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		if strings.Contains(strings.TrimRight(x, "\n"), "\n") {
			return "|\n" + strings.TrimRight(x, "\n")
		}
		if x == "" || strings.TrimSpace(x) != x || strings.ContainsAny(x, "\"#:{}[]") {
			return strconv.Quote(x)
		}
		return x
	case engine.Unknown:
		return formatValue(x.Text)
	case nil:
		return "null"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func indentRest(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func restLines(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	return rest
}

func ms(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}
