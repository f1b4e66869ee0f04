package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrCaseBusy is wrapped by the error OpenCase returns when another run
// holds the case: two writers continuing one custody chain would fork it.
var ErrCaseBusy = errors.New("case is being written by another run")

// CaseBusy returns an error that reads as the message given and wraps
// ErrCaseBusy, for Lockers and stores to say who holds a case without
// repeating the sentinel's text.
func CaseBusy(format string, args ...any) error {
	return &busyError{msg: fmt.Sprintf(format, args...)}
}

type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }
func (e *busyError) Unwrap() error { return ErrCaseBusy }

// Locker is an optional ability of a Store: keeping a case to one writer.
// OpenCase takes the lock before it reads the custody log and holds it
// until Case.Close or Case.Finish. Lock must not block: a case held
// elsewhere is an error wrapping ErrCaseBusy that says who holds it.
type Locker interface {
	Lock(ctx context.Context, caseID string) (unlock func() error, err error)
}

var _ Locker = (*DirStore)(nil)

// Lock implements Locker with an flock on CASE/.lock, which the kernel
// drops when the process ends, even by a crash, so a resume after a kill
// is never refused. The file keeps the holder's pid for the message, and
// unlock removes it (while still holding the flock), so a finished case
// holds no lock file.
func (d *DirStore) Lock(_ context.Context, caseID string) (func() error, error) {
	if err := CheckCaseID(caseID); err != nil {
		return nil, err
	}
	root, name, err := d.open(caseID + "/.lock")
	if err != nil {
		return nil, err
	}
	if err := root.MkdirAll(filepath.Dir(name), dirPerm); err != nil {
		root.Close()
		return nil, d.full(fmt.Errorf("creating case dir %q: %w", caseID, err))
	}
	f, err := lockFile(caseID,
		func() (*os.File, error) { return openRegularIn(root, name, os.O_RDWR|os.O_CREATE, filePerm) },
		func() (os.FileInfo, error) { return root.Lstat(name) })
	if err != nil {
		root.Close()
		return nil, err
	}
	// The pid is a hint for the message only; the flock is the lock.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		// Removed before the flock is dropped: whoever opened the file
		// meanwhile finds, once it has the flock, that the name no longer
		// leads to it, and starts again (lockFile). A file left behind
		// (a crash, a read-only dir) does no harm: the flock is the lock.
		_ = root.Remove(name)
		root.Close()
		return f.Close() // closing drops the flock
	}, nil
}

// lockTries bounds how often Lock starts again when the lock file it
// locked was removed by its last holder in between.
const lockTries = 5

// lockFile opens the lock file and flocks it. A holder removes the file as
// it lets go, so a file opened just before that and locked just after is no
// longer the one the name leads to: holding it would not keep a third run
// out, which would make a new file. lockFile checks that the name still
// leads to the file it locked (stat: os.SameFile), else starts again.
func lockFile(caseID string, open func() (*os.File, error), stat func() (os.FileInfo, error)) (*os.File, error) {
	for range lockTries {
		f, err := open()
		if err != nil {
			return nil, fmt.Errorf("locking case %q: %w", caseID, err)
		}
		if err := flock(f); err != nil {
			holder := readHolder(f)
			f.Close()
			if errors.Is(err, errLocked) {
				return nil, CaseBusy("case %q is being written by another run (%s); wait for it or use another --case", caseID, holder)
			}
			return nil, fmt.Errorf("locking case %q: %w", caseID, err)
		}
		if same(f, stat) {
			return f, nil
		}
		f.Close()
	}
	return nil, CaseBusy("case %q is being opened and closed by other runs as this one tries to take it; wait for them or use another --case", caseID)
}

// same reports whether the lock file's name still leads to f.
func same(f *os.File, stat func() (os.FileInfo, error)) bool {
	byName, err := stat()
	if err != nil {
		return false
	}
	held, err := f.Stat()
	return err == nil && os.SameFile(byName, held)
}

// readHolder reads the holder's "pid N" hint, best effort.
func readHolder(f *os.File) string {
	buf := make([]byte, 64)
	n, _ := f.ReadAt(buf, 0)
	if s := strings.TrimSpace(string(buf[:n])); s != "" {
		return s
	}
	return "pid unknown"
}
