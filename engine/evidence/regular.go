package evidence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotRegular is wrapped by the error a local store or Verify gives for
// a name that leads to anything but a regular file: a symbolic link, a
// named pipe, a device, a socket, a directory. Reading a pipe blocks until
// someone writes to it, and a device never ends, so evidence is read only
// from regular files; a link could lead to another case's evidence or
// anywhere on the machine, so none is followed inside a case.
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError names the file and what it is instead.
type NotRegularError struct {
	Name string // as given: a key in OS form, or a path
	Is   string // "a symbolic link", "a named pipe", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", Printable(filepath.ToSlash(e.Name)), e.Is)
}

func (e *NotRegularError) Unwrap() error { return ErrNotRegular }

func notRegular(name string, fi fs.FileInfo) error {
	return &NotRegularError{Name: name, Is: fileKind(fi.Mode())}
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "not a plain file (mode " + m.String() + ")"
}

// lstatRegular checks that name, under root, is a regular file reached
// through real directories only: no component is followed if it is a link.
func lstatRegular(root *os.Root, name string) (fs.FileInfo, error) {
	if err := realDirs(root, name); err != nil {
		return nil, err
	}
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(name, fi)
	}
	return fi, nil
}

// realDirs checks that every directory leading to name, under root, is a
// directory and not a link to one.
func realDirs(root *os.Root, name string) error {
	parts := strings.Split(name, string(filepath.Separator))
	for i := 1; i < len(parts); i++ {
		dir := filepath.Join(parts[:i]...)
		fi, err := root.Lstat(dir)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return notRegular(dir, fi)
		}
	}
	return nil
}

// openRegularIn opens name under root only when it is a regular file
// reached through no link (lstatRegular). The open itself never waits
// (O_NONBLOCK: a pipe swapped in after the check is opened at once, then
// refused), and what was opened is checked again: it must be a regular
// file, and the one the name leads to now. With O_CREATE a missing file is
// created. Nothing is written before these checks pass, so a name swapped
// for a link to another case's manifest never truncates it.
func openRegularIn(root *os.Root, name string, flag int, perm fs.FileMode) (*os.File, error) {
	if _, err := lstatRegular(root, name); err != nil && !(flag&os.O_CREATE != 0 && isNotExist(err)) {
		return nil, err
	}
	f, err := root.OpenFile(name, flag|openNonblock, perm)
	if err != nil {
		return nil, err
	}
	err = sameRegular(root, name, f)
	if err == nil && flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		err = oneName(name, f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// oneName refuses a file opened for writing that another name leads to
// too (a hard link): a .lock or a custody log made a hard link to another
// case's manifest would write into it.
func oneName(name string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if n := hardLinks(fi); n > 1 {
		return &NotRegularError{Name: name, Is: fmt.Sprintf("a file with %d names (hard links)", n)}
	}
	return nil
}

// sameRegular checks that f, opened as name, is a regular file and that
// name, without following links, leads to it.
func sameRegular(root *os.Root, name string, f *os.File) error {
	held, err := f.Stat()
	if err != nil {
		return err
	}
	if !held.Mode().IsRegular() {
		return notRegular(name, held)
	}
	now, err := lstatRegular(root, name)
	if err != nil {
		return err
	}
	if !os.SameFile(held, now) {
		return fmt.Errorf("%s changed while it was opened: %w", Printable(filepath.ToSlash(name)), ErrNotRegular)
	}
	return nil
}

// openRegular opens path, a file outside any store (a file:// memory
// image sink), only when it is a regular file itself, not a link to one;
// the directories leading to it may be links (the responder chose them).
func openRegular(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock|openNofollow, 0)
	if err != nil {
		return nil, err
	}
	held, err := f.Stat()
	if err == nil && !held.Mode().IsRegular() {
		err = notRegular(path, held)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
