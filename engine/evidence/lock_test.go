package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenCaseAllowsOneWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	first, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenCase(ctx, store, testHeader("cr-lock"), nil)
	want := fmt.Sprintf(`case "cr-lock" is being written by another run (pid %d); wait for it or use another --case`, os.Getpid())
	if !errors.Is(err, ErrCaseBusy) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second OpenCase while the first is open:\n got  %v\n want %q wrapping ErrCaseBusy", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Event(ctx, "late", "", nil); err == nil || !strings.Contains(err.Error(), "is closed") {
		t.Fatalf("Event after Close: got %v, want refused", err)
	}
	second, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatalf("OpenCase after the first closed: %v", err)
	}
	if _, err := second.Finish(ctx, "interrupted", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Finish released the lock: a resume may open it again.
	third, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatalf("OpenCase after Finish: %v", err)
	}
	if _, err := third.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(ctx, store, "cr-lock", nil); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", err, rep.Problems)
	}
}

// failOnce is a DirStore whose Append fails for the custody line that
// holds failEvent, once.
type failOnce struct {
	*DirStore
	failEvent string
	failed    bool
}

func (f *failOnce) Append(ctx context.Context, key string, line []byte) error {
	if !f.failed && strings.Contains(string(line), `"event":"`+f.failEvent+`"`) {
		f.failed = true
		return errors.New("store unreachable")
	}
	return f.DirStore.Append(ctx, key, line)
}

func TestLostCustodyEventFailsVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, _ := NewDirStore(t.TempDir())
	store := &failOnce{DirStore: dir, failEvent: "step.started"}
	c, err := OpenCase(ctx, store, testHeader("cr-gap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Event(ctx, "step.started", "gather", nil); err == nil {
		t.Fatal("the failing append did not fail")
	}
	if err := c.Event(ctx, "step.succeeded", "gather", nil); err != nil {
		t.Fatal(err)
	}
	m, err := c.Finish(ctx, "interrupted", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m.Custody.Lost != 1 {
		t.Fatalf("manifest custody.lost = %d, want 1", m.Custody.Lost)
	}
	rep, err := Verify(ctx, dir, "cr-gap", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"custody: 1 event(s) could not be recorded: step.started"}
	if strings.Join(rep.Problems, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
	// A resume keeps the count, from the gap line in the log.
	c2, err := OpenCase(ctx, dir, testHeader("cr-gap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := c2.Finish(ctx, "succeeded", time.Now()); err != nil || m2.Custody.Lost != 1 {
		t.Fatalf("resumed Finish: %v, lost %d, want 1", err, m2.Custody.Lost)
	}
}

func TestLostCountStrippedFromManifestStillFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, _ := NewDirStore(t.TempDir())
	store := &failOnce{DirStore: dir, failEvent: "step.started"}
	c, _ := OpenCase(ctx, store, testHeader("cr-gap2"), nil)
	_ = c.Event(ctx, "step.started", "gather", nil)
	if _, err := c.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	editManifest(t, dir.Root()+"/cr-gap2", func(m map[string]any) { m["custody"].(map[string]any)["lost"] = 0 })
	rep, _ := Verify(ctx, dir, "cr-gap2", nil)
	want := []string{
		"custody: 1 event(s) could not be recorded: step.started",
		"custody: the log's gap lines count 1 lost event(s), the manifest 0",
	}
	if strings.Join(rep.Problems, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
}

// TestLockFileRemovedWhenRunEnds: a closed or finished case holds no
// .lock file, and a removed lock file does not weaken the lock.
func TestLockFileRemovedWhenRunEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := NewDirStore(dir)
	lockPath := filepath.Join(dir, "cr-gone", ".lock")
	c, err := OpenCase(ctx, store, testHeader("cr-gone"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath); err != nil {
		t.Fatalf("while the case is open: %v, want a .lock file", err)
	}
	if _, err := OpenCase(ctx, store, testHeader("cr-gone"), nil); !errors.Is(err, ErrCaseBusy) {
		t.Fatalf("second writer while the first holds it: got %v, want ErrCaseBusy", err)
	}
	if _, err := c.Finish(ctx, "interrupted", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Finish: stat .lock: %v, want it gone", err)
	}
	if rep, err := Verify(ctx, store, "cr-gone", nil); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", err, rep.Problems)
	}
	again, err := OpenCase(ctx, store, testHeader("cr-gone"), nil)
	if err != nil {
		t.Fatalf("resume after Finish: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Close: stat .lock: %v, want it gone", err)
	}
}

// TestLockFileReplacedInBetween: a lock file its holder removed after
// this run opened it, and a new one made by a third run, is not a lock:
// lockFile opens the file the name leads to now, and finds it held.
func TestLockFileReplacedInBetween(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, ".lock")
	third, err := os.Create(name + ".third")
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := flock(third); err != nil {
		t.Fatal(err)
	}
	opens := 0
	open := func() (*os.File, error) {
		opens++
		if opens == 1 {
			// The old file, opened just before its holder removed it
			// and a third run made and locked a new one.
			f, err := os.Create(name)
			if err != nil {
				return nil, err
			}
			if err := os.Rename(name+".third", name); err != nil {
				return nil, err
			}
			return f, nil
		}
		return os.OpenFile(name, os.O_RDWR, 0)
	}
	stat := func() (os.FileInfo, error) { return os.Lstat(name) }
	f, err := lockFile("cr-x", open, stat)
	if f != nil {
		f.Close()
	}
	if !errors.Is(err, ErrCaseBusy) || opens != 2 {
		t.Fatalf("got %v after %d open(s); want ErrCaseBusy after 2 (the old file dropped, the new one held)", err, opens)
	}
}
