package evidence

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCaseFilesDoNotFollowLinks: a case's .lock or custody log planted as
// a link to another case's manifest or log is refused, naming it, and the
// file it leads to is untouched (a .lock opened through the link would be
// truncated).
func TestCaseFilesDoNotFollowLinks(t *testing.T) {
	t.Parallel()
	link := map[string]func(string, string) error{"symlink": os.Symlink, "hard link": os.Link}
	for _, name := range []string{".lock", "custody.jsonl"} {
		for _, target := range []string{"manifest.json", "custody.jsonl"} {
			for kind, mk := range link {
				t.Run(name+" "+kind+" to "+target, func(t *testing.T) {
					t.Parallel()
					store, _ := NewDirStore(t.TempDir())
					buildCaseAs(t, store, "cr-victim", nil, engine.RunInterrupted)
					victim := filepath.Join(store.Root(), "cr-victim", target)
					before, _ := os.ReadFile(victim)
					os.Mkdir(filepath.Join(store.Root(), "cr-bait"), 0o700)
					from := filepath.Join("..", "cr-victim", target)
					if kind == "hard link" {
						from = victim
					}
					if err := mk(from, filepath.Join(store.Root(), "cr-bait", name)); err != nil {
						t.Fatal(err)
					}
					_, err := OpenCase(context.Background(), store, testHeader("cr-bait"), nil)
					// Refused as a link, as another case's log, or as a
					// log that is no chain (a manifest's bytes).
					if err == nil {
						t.Fatalf("OpenCase with %s a %s to %s: got no error", name, kind, target)
					}
					if after, _ := os.ReadFile(victim); !bytes.Equal(after, before) {
						t.Fatalf("%s was changed through the link", target)
					}
					if rep, err := Verify(context.Background(), store, "cr-victim", nil); err != nil || !rep.OK() {
						t.Fatalf("the victim case: %v %v", err, rep)
					}
				})
			}
		}
	}
}

// TestCaseFilesNeverWaitOnAPipe: a named pipe as a case's custody log or
// lock is refused at once: nothing opens it waiting for a writer.
func TestCaseFilesNeverWaitOnAPipe(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".lock", "custody.jsonl", "custody.d/000001.jsonl"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store, _ := NewDirStore(t.TempDir())
			p := filepath.Join(store.Root(), "cr-pipe", filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o700)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := OpenCase(context.Background(), store, testHeader("cr-pipe"), nil)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrNotRegular) {
					t.Fatalf("OpenCase with %s a pipe: got %v, want ErrNotRegular", name, err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("OpenCase with %s a pipe still waits after 20s", name)
			}
		})
	}
}

// TestDirStoreFilesArePrivate: every file and folder a case writes is the
// operator's alone (memory images among them), as the journal is.
func TestDirStoreFilesArePrivate(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(filepath.Join(t.TempDir(), "evidence"))
	buildCase(t, store, "cr-private", nil)
	err := filepath.Walk(store.Root(), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
