package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/internal/atomicfile"
	"github.com/gofrs/flock"
)

// OnceRecords keeps the records of `once: instance` steps: one small file per step under
// DIR/once/INSTANCE-ID/WORKFLOW/STEP, written atomically and synced to disk only after the step
// succeeded. A first boot interrupted before that runs the step again; an instance made from an
// image of a used one has a new id, so it runs the step again too. WORKFLOW and STEP are the
// workflow's name and the step's id encoded as onceElement says, so that every pair has its own
// record inside the instance's directory.
//
// A step is exclusive to one run at a time: Done takes a file lock beside the record
// (STEP.lock; no encoded element has a "."), and a Done that finds no record keeps it until
// Record or Release. A run that arrives meanwhile waits in Done, then finds the record and skips
// the step, or, if the holder failed, runs it. The lock is the kernel's (flock, or LockFileEx on
// Windows): a holder killed with SIGKILL holds nothing, and the next run does the step.
type OnceRecords struct {
	// Dir is the state directory (/var/lib/flow by default; under --root when one is set).
	Dir string
	// Root, when set, is the --root that Dir is in: every record, lock and directory is then
	// resolved inside it, so a symlink that leads out of it is an error, never a write elsewhere.
	Root string
	// InstanceID returns this instance's id; it is asked once, when a once step first needs it.
	InstanceID func(ctx context.Context) (string, error)
	// Now stamps the records; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	id   string
	held map[string]*flock.Flock // key -> the lock of a step this run is running
}

// onceLockPoll is how often a run waiting for another's step tries the lock again.
const onceLockPoll = 20 * time.Millisecond

// onceRecord is what a record file holds.
type onceRecord struct {
	InstanceID string    `json:"instance_id"`
	Workflow   string    `json:"workflow"`
	Step       string    `json:"step"`
	Time       time.Time `json:"time"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// onceMaxElement is the longest element onceElement returns, well within the 255 bytes a file
// name may have.
const onceMaxElement = 200

// onceElement encodes name (a workflow's name or a step's id) as one path element that no other
// name encodes to: every byte other than A-Z, a-z, 0-9, _ and - is written %XX in upper-case hex,
// "%" and "." included. So ".." is %2E%2E and cannot leave the directory, "a/b" is a%2Fb and
// differs from a_b, and "déjà" is d%C3%A9j%C3%A0. An encoding longer than onceMaxElement is cut
// (never inside a %XX) and followed by "~" and the name's SHA-256 in hex: "~" is in no plain
// encoding, so a long name shares its record with no other name (barring a SHA-256 collision).
func onceElement(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	enc := b.String()
	if len(enc) <= onceMaxElement {
		return enc
	}
	sum := sha256.Sum256([]byte(name))
	cut := onceMaxElement - 1 - 2*len(sum)
	if i := strings.LastIndexByte(enc[:cut], '%'); i > cut-3 {
		cut = i
	}
	return enc[:cut] + "~" + hex.EncodeToString(sum[:])
}

// splitOnceKey splits the engine's key, WORKFLOW/STEP, at its last slash: a step id has none, a
// workflow's name may.
func splitOnceKey(key string) (workflow, step string, err error) {
	i := strings.LastIndexByte(key, '/')
	if i <= 0 || i == len(key)-1 {
		return "", "", fmt.Errorf("once record %q does not name a workflow and a step (WORKFLOW/STEP)", key)
	}
	return key[:i], key[i+1:], nil
}

func (o *OnceRecords) instance(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.id != "" {
		return o.id, nil
	}
	id, err := o.InstanceID(ctx)
	if err != nil {
		return "", fmt.Errorf("find this instance's id: %w", err)
	}
	if id == "" || unsafeName.MatchString(id) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("instance id %q cannot name a record", id)
	}
	o.id = id
	return id, nil
}

func (o *OnceRecords) path(ctx context.Context, key string) (string, string, error) {
	id, err := o.instance(ctx)
	if err != nil {
		return "", "", err
	}
	workflow, step, err := splitOnceKey(key)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(o.Dir, "once", id, onceElement(workflow), onceElement(step)), id, nil
}

// files returns where the records are, and path's name there: the host's file system and path
// itself, or, with Root, the root (to be closed) and path relative to it.
func (o *OnceRecords) files(path string) (onceFiles, string, func(), error) {
	if o.Root == "" {
		return hostFiles{}, path, func() {}, nil
	}
	rel, err := filepath.Rel(o.Root, path)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, "", nil, fmt.Errorf("the state directory %s is not inside --root %s", o.Dir, o.Root)
	}
	root, err := openRoot(o.Root)
	if err != nil {
		return nil, "", nil, err
	}
	return root, rel, func() { root.Close() }, nil
}

// onceFiles is what the records need of a file system: *os.Root, or hostFiles.
type onceFiles interface {
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Mkdir(name string, perm fs.FileMode) error
	Open(name string) (*os.File, error)
	ReadFile(name string) ([]byte, error)
}

// hostFiles is the file system as the process sees it.
type hostFiles struct{}

func (hostFiles) Stat(name string) (fs.FileInfo, error)     { return os.Stat(name) }
func (hostFiles) Lstat(name string) (fs.FileInfo, error)    { return os.Lstat(name) }
func (hostFiles) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }
func (hostFiles) Open(name string) (*os.File, error)        { return os.Open(name) }
func (hostFiles) ReadFile(name string) ([]byte, error)      { return os.ReadFile(name) }

// Done reports whether the step named key ("workflow/step") already ran on this instance. It
// first waits for any other run that holds the step (or for ctx); when the step has not run, it
// holds it for this run until Record or Release.
func (o *OnceRecords) Done(ctx context.Context, key string) (bool, string, error) {
	path, id, err := o.path(ctx, key)
	if err != nil {
		return false, "", err
	}
	files, name, done, err := o.files(path)
	if err != nil {
		return false, "", err
	}
	defer done()
	if err := o.hold(ctx, key, files, path, name); err != nil {
		return false, "", fmt.Errorf("%s: %w", path, rootEscape(err))
	}
	ran, detail, err := readOnceRecord(files, name, path, id)
	if ran || err != nil {
		o.Release(key)
	}
	return ran, detail, rootEscape(err)
}

// readOnceRecord reads the record of instance id, name in files (path as shown): whether there
// is one, and what it says.
func readOnceRecord(files onceFiles, name, path, id string) (bool, string, error) {
	data, err := files.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	var rec onceRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		// A record is written atomically, so this is damage from outside: say so, do not guess.
		return false, "", fmt.Errorf("the record %s is damaged (%v): remove it to run the step again", path, err)
	}
	return true, fmt.Sprintf("already ran on instance %s at %s (record %s)", id, rec.Time.UTC().Format(time.RFC3339), path), nil
}

// hold takes the lock of the step whose record is at path (name in files), waiting while another
// run holds it, unless this run holds it already.
func (o *OnceRecords) hold(ctx context.Context, key string, files onceFiles, path, name string) error {
	o.mu.Lock()
	_, held := o.held[key]
	o.mu.Unlock()
	if held {
		return nil
	}
	if err := mkdirAllSynced(files, filepath.Dir(name)); err != nil {
		return err
	}
	lock, err := lockFile(ctx, o.Root, path+".lock", "another run of this step on this instance")
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.held == nil {
		o.held = map[string]*flock.Flock{}
	}
	o.held[key] = lock
	return nil
}

// HoldGroup takes the lock of a workflow's concurrency group: STATE/locks/GROUP.lock, with STATE
// the state directory (taken under root when root is set, and resolved inside it), made if
// missing. If another run holds it, waiting is told where, once, and HoldGroup waits until that
// run ends or ctx does. The lock is the kernel's, like a once step's: a holder killed with SIGKILL
// holds nothing. The returned func lets it go.
func HoldGroup(ctx context.Context, root, state, group string, waiting func(path string)) (func(), error) {
	dir := filepath.Join(state, "locks")
	if err := mkdirStepDir(root, dir); err != nil {
		return nil, fmt.Errorf("concurrency %s: %w (the state directory is --state-dir's)", group, err)
	}
	if root != "" {
		dir = filepath.Join(root, insideRoot(dir))
	}
	path := filepath.Join(dir, group+".lock")
	lock := flock.New(path, flock.SetPermissions(0o644))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("concurrency %s: lock %s: %w", group, path, err)
	}
	if ok {
		return func() { lock.Close() }, nil
	}
	waiting(path)
	held, err := lockFile(ctx, root, path, "the other run of concurrency group "+group)
	if err != nil {
		return nil, fmt.Errorf("concurrency %s: %w", group, rootEscape(err))
	}
	return func() { held.Close() }, nil
}

// lockFile takes the kernel's lock (flock, or LockFileEx on Windows) of the file at path,
// created mode 0644 if missing in its existing directory, waiting while another process holds
// it: a holder killed with SIGKILL holds nothing. holder says who would hold it, for the error
// of a wait that ctx ends. With root set, path's directory must resolve inside root (the lock is
// opened by its path): a symlink on the way out of it is an error, never a lock elsewhere.
func lockFile(ctx context.Context, root, path, holder string) (*flock.Flock, error) {
	if root != "" {
		real, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		realRoot, err := filepath.EvalSymlinks(root)
		if err != nil {
			return nil, err
		}
		if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) && rel != "." {
			return nil, fmt.Errorf("%s: path escapes from parent", filepath.Dir(path))
		}
	}
	lock := flock.New(path, flock.SetPermissions(0o644))
	locked, err := lock.TryLockContext(ctx, onceLockPoll)
	if err != nil || !locked {
		if ctx.Err() != nil {
			err = fmt.Errorf("waiting for %s to finish: %w", holder, context.Cause(ctx))
		}
		return nil, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	return lock, nil
}

// Release lets go of the step named key, held since a Done that found it not done: for a step
// that did not run to success, so that another run may do it. Releasing a step not held does
// nothing.
func (o *OnceRecords) Release(key string) {
	o.mu.Lock()
	lock := o.held[key]
	delete(o.held, key)
	o.mu.Unlock()
	if lock != nil {
		lock.Close() // unlocks; the file stays, for the next run to lock
	}
}

// Close releases every step this run still holds.
func (o *OnceRecords) Close() error {
	o.mu.Lock()
	keys := make([]string, 0, len(o.held))
	for k := range o.held {
		keys = append(keys, k)
	}
	o.mu.Unlock()
	for _, k := range keys {
		o.Release(k)
	}
	return nil
}

// Record durably records that key ran on this instance, and releases the step.
func (o *OnceRecords) Record(ctx context.Context, key string) error {
	defer o.Release(key)
	path, id, err := o.path(ctx, key)
	if err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	workflow, step, err := splitOnceKey(key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(onceRecord{InstanceID: id, Workflow: workflow, Step: step, Time: now().UTC()})
	if err != nil {
		return err
	}
	files, name, done, err := o.files(path)
	if err != nil {
		return err
	}
	defer done()
	if err := mkdirAllSynced(files, filepath.Dir(name)); err != nil {
		return rootEscape(err)
	}
	if root, ok := files.(*os.Root); ok {
		return rootEscape(atomicfile.WriteIn(root, name, append(data, '\n'), 0o644))
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}

// mkdirAllSynced creates dir and its missing parents in files, syncing each parent so the new
// entries survive a crash.
func mkdirAllSynced(files onceFiles, dir string) error {
	if _, err := files.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAllSynced(files, parent); err != nil {
			return err
		}
	}
	if err := files.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	d, err := files.Open(filepath.Dir(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// InstanceIDFromIMDS returns a function that gives this instance's id: the one an imds.get step
// of the run already read, else a read of instance metadata (IMDSv2) through a's client, with its
// retries. Its errors say what instance metadata answered and what that means, as imds.get's do.
func InstanceIDFromIMDS(a *AWS) func(ctx context.Context) (string, error) {
	const path = "/latest/meta-data/instance-id"
	return func(ctx context.Context) (string, error) {
		if id := a.knownInstance(); id != "" {
			return id, nil
		}
		client, err := a.metadataClient(ctx)
		if err != nil {
			return "", err
		}
		out, err := client.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
		if err != nil {
			return "", imdsError(path, err)
		}
		defer out.Content.Close()
		b, err := io.ReadAll(out.Content)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		id := strings.TrimSpace(string(b))
		a.rememberInstance(id)
		return id, nil
	}
}

var _ engine.OnceHolder = (*OnceRecords)(nil)
