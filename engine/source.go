package engine

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize is the most a workflow file or a vars file may hold: 4 MiB, a hundred times the
// largest workflow shipped. Loading is linear in the file's size, so this bounds the time and the
// memory a check takes.
const MaxFileSize = 4 << 20

// ReadSource reads the workflow or vars file at path, which must be a regular file of at most
// MaxFileSize bytes. A device (/dev/zero), a FIFO, a socket or a directory is refused before it is
// read, so the check can neither block nor grow without bound.
func ReadSource(path string) ([]byte, error) {
	if err := regular(path, os.Stat); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Again on the open file: the path may have been replaced between the two looks.
	if err := regular(path, func(string) (fs.FileInfo, error) { return f.Stat() }); err != nil {
		return nil, err
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%s: the file is larger than %d MiB, the most a workflow or vars file may hold", path, MaxFileSize>>20)
	}
	return src, nil
}

// regular returns an error unless stat says path is a regular file.
func regular(path string, stat func(string) (fs.FileInfo, error)) error {
	info, err := stat(path)
	if err != nil {
		return err
	}
	if info.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s is %s, not a regular file: flow reads workflows and vars files from regular files only", path, fileKind(info.Mode()))
}

// fileKind names what a non-regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
