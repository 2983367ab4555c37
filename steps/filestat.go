package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/flow-infra/flow/engine"
)

func init() { Register(new(fileStat)) }

// fileStat reports whether a file is there, and what kind.
type fileStat struct {
	Path string `flow:"path,required" doc:"The file to look at (under --root when set); a symbolic link is followed."`
}

type fileInfo struct {
	Exists bool `flow:"exists" doc:"Whether something is at path (a file, a directory, ...)."`
	Dir    bool `flow:"dir" doc:"Whether it is a directory."`
	Size   int  `flow:"size" doc:"Its size in bytes; 0 when it does not exist."`
}

func (*fileStat) Info() Info {
	return Info{
		Name: "file.stat",
		Doc: "Look at a file without reading it, read-only: whether it exists, whether it is a directory, and its size. A file that is not there is not an error: exists is false. Any other failure " +
			"(a directory on the way that cannot be searched, a path under --root that leads out of it) fails the step. " +
			"boot.yaml uses it to tell a first boot (no env file yet) from a later one.",
		New:      func() Step { return new(fileStat) },
		Output:   fileInfo{},
		ReadOnly: true,
	}
}

func (s *fileStat) Validate() error {
	if strings.TrimSpace(s.Path) == "" {
		return field("path").errorf("must not be empty")
	}
	return nil
}

func (s *fileStat) Plan(rt *engine.Runtime, known Known) []string {
	return []string{"stat " + rt.Path(s.Path)}
}

func (s *fileStat) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	info, err := statStepFile(rt, s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	return fileInfo{Exists: true, Dir: info.IsDir(), Size: int(info.Size())}, nil
}

// statStepFile stats the file a step names p, following symbolic links. With --root (rt.Root) p
// is taken under the root and resolved inside it: a link that leads out of the root is an error,
// and a root that does not exist holds no file.
func statStepFile(rt *engine.Runtime, p string) (fs.FileInfo, error) {
	if rt.Root == "" {
		return os.Stat(p)
	}
	root, err := os.OpenRoot(rt.Root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	info, err := root.Stat(insideRoot(p))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("stat %s under --root %s: %w", p, rt.Root, rootEscape(err))
	}
	return info, err
}
