package steps

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-infra/flow/emulator"
)

// onceFor returns the records of instance id under dir.
func onceFor(dir, id string) *OnceRecords {
	return &OnceRecords{Dir: dir, InstanceID: func(context.Context) (string, error) { return id, nil }}
}

func TestOnceElement(t *testing.T) {
	for in, want := range map[string]string{
		"boot":     "boot",
		"a_b-C9":   "a_b-C9",
		"..":       "%2E%2E",
		".":        "%2E",
		"a/b":      "a%2Fb",
		"%2E":      "%252E",
		"déjà vu":  "d%C3%A9j%C3%A0%20vu",
		"boot.v2":  "boot%2Ev2",
		"a\x00b\\": "a%00b%5C",
	} {
		if got := onceElement(in); got != want {
			t.Errorf("onceElement(%q) = %q, want %q", in, got, want)
		}
	}
	// Long names: cut, never inside a %XX, and told apart by their hash.
	for _, long := range []string{strings.Repeat("é", 100), "x" + strings.Repeat("é", 100), "xy" + strings.Repeat("é", 100)} {
		a, b := onceElement(long+"a"), onceElement(long+"b")
		if a == b || len(a) > onceMaxElement || !strings.Contains(a, "~") {
			t.Errorf("long names: %q and %q", a, b)
		}
		prefix := a[:strings.IndexByte(a, '~')]
		if i := strings.LastIndexByte(prefix, '%'); i > len(prefix)-3 {
			t.Errorf("a long name is cut inside an escape: %q", prefix)
		}
	}
}

// TestOnceRecordsNamesStayApart: a workflow named ".." keeps its records in the instance's
// directory, and names that an older scheme mapped alike ("a/b" and "a_b") have records of
// their own.
func TestOnceRecordsNamesStayApart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one, two := onceFor(dir, "i-0000000000000000a"), onceFor(dir, "i-0000000000000000b")
	keys := []string{"../setup", "./setup", "%2E%2E/setup", "a/b/setup", "a_b/setup", "déjà vu/setup", strings.Repeat("w", 300) + "/setup"}
	for i, key := range keys {
		if done, _, err := one.Done(ctx, key); err != nil || done {
			t.Fatalf("%s before its record: done %t, %v", key, done, err)
		}
		if err := one.Record(ctx, key); err != nil {
			t.Fatalf("record %s: %v", key, err)
		}
		for j, other := range keys {
			done, _, err := one.Done(ctx, other)
			if err != nil || done != (j <= i) {
				t.Errorf("after recording %s: %s done %t (%v), want %t", key, other, done, err, j <= i)
			}
		}
		// Another instance has run nothing.
		if done, _, err := two.Done(ctx, key); err != nil || done {
			t.Errorf("%s on another instance: done %t, %v", key, done, err)
		}
	}
	// Every record is a file inside the instance's directory, holding the names as given.
	var found []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".lock") {
			found = append(found, path)
		}
		return err
	})
	if len(found) != len(keys) {
		t.Errorf("%d record files, want %d: %q", len(found), len(keys), found)
	}
	inside := filepath.Join(dir, "once", "i-0000000000000000a") + string(filepath.Separator)
	for _, f := range found {
		if !strings.HasPrefix(f, inside) {
			t.Errorf("record %s is outside %s", f, inside)
		}
	}
	data, err := os.ReadFile(filepath.Join(inside, "%2E%2E", "setup"))
	var rec onceRecord
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Workflow != ".." || rec.Step != "setup" {
		t.Errorf("the record of ../setup: %s, %v", data, err)
	}
	data, err = os.ReadFile(filepath.Join(inside, "a%2Fb", "setup"))
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Workflow != "a/b" {
		t.Errorf("the record of a/b/setup: %s, %v", data, err)
	}

	for _, key := range []string{"setup", "/setup", "boot/"} {
		if _, _, err := one.Done(ctx, key); err == nil || !strings.Contains(err.Error(), "does not name a workflow and a step") {
			t.Errorf("key %q: %v", key, err)
		}
	}
}

// TestOnceInstanceIDFromIMDS: the instance's id comes from instance metadata, and when it cannot,
// the error says what instance metadata answered and why.
func TestOnceInstanceIDFromIMDS(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "once-imds"})
	ctx := WithAWS(context.Background(), a)
	o := &OnceRecords{Dir: t.TempDir(), InstanceID: InstanceIDFromIMDS(a)}
	_, _, err := o.Done(ctx, "boot/setup")
	want := "find this instance's id: instance metadata answered 404 Not Found to GET /latest/meta-data/instance-id: " +
		"imds: no instance is running in the emulator"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("no instance: %v\nwant it to begin %s", err, want)
	}

	id := imdsLaunch(t, ctx, nil)["instance_id"].(string)
	o = &OnceRecords{Dir: t.TempDir(), InstanceID: InstanceIDFromIMDS(a)}
	if err := o.Record(ctx, "boot/setup"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, "once", id, "boot", "setup")); err != nil {
		t.Errorf("the record of instance %s: %v", id, err)
	}

	// Metadata disabled on the instance: IMDS answers 403 to everything.
	ctx = fakeAWS(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	_, err = InstanceIDFromIMDS(mustAWS(t, ctx))(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "no IMDSv2 session token (PUT /latest/api/token): is this an EC2 instance") {
		t.Errorf("metadata disabled: %v", err)
	}
}

func mustAWS(t *testing.T, ctx context.Context) *AWS {
	t.Helper()
	a, err := awsFrom(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOnceHoldsTheStep: while one run holds a step (its Done found no record), another run's
// Done waits; after the holder's Record it finds the record, and after a holder's Release it
// runs the step itself. A waiting Done gives up with its context.
func TestOnceHoldsTheStep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, second := onceFor(dir, "i-0000000000000000a"), onceFor(dir, "i-0000000000000000a")
	for _, end := range []string{"record", "release"} {
		key := "boot/" + end
		if done, _, err := first.Done(ctx, key); err != nil || done {
			t.Fatalf("%s: first Done: %t, %v", end, done, err)
		}
		type answer struct {
			done bool
			err  error
		}
		answers := make(chan answer, 1)
		go func() {
			done, _, err := second.Done(ctx, key)
			answers <- answer{done, err}
		}()
		select {
		case a := <-answers:
			t.Fatalf("%s: the second Done answered (%t, %v) while the first held the step", end, a.done, a.err)
		case <-time.After(100 * time.Millisecond):
		}
		if end == "record" {
			if err := first.Record(ctx, key); err != nil {
				t.Fatal(err)
			}
		} else {
			first.Release(key)
		}
		a := <-answers
		if a.err != nil || a.done != (end == "record") {
			t.Errorf("%s: the second Done after the first let go: %t, %v", end, a.done, a.err)
		}
		second.Release(key)
	}

	if _, _, err := first.Done(ctx, "boot/wait"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := second.Done(short, "boot/wait"); err == nil || !strings.Contains(err.Error(), "waiting for another run of this step") {
		t.Errorf("a Done that gave up waiting: %v", err)
	}
	first.Close()
	if done, _, err := second.Done(ctx, "boot/wait"); err != nil || done {
		t.Errorf("after Close: %t, %v", done, err)
	}
	second.Close()
}
