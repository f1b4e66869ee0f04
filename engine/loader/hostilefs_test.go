//go:build unix

package loader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sparse makes a file of size bytes that takes no disk: reading it all
// into memory (1 TiB) would kill the test binary.
func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse file of %d bytes here: %v", size, err)
	}
}

// TestCatalogHostileFiles: a FIFO and a huge file named *.yaml in a
// playbook dir are reported by List, and Find still finds the good
// playbook beside them; neither blocks nor is read whole.
func TestCatalogHostileFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	sparse(t, filepath.Join(dir, "huge.yaml"), 1<<40)
	good := "name: good\nsteps:\n  - id: a\n    action: command\n"
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Catalog{Dirs: []string{dir}, Loader: &Loader{}}
	type result struct {
		call string
		err  error
	}
	done := make(chan result, 2)
	go func() {
		list, err := c.List()
		if len(list) != 1 || list[0].Name != "good" {
			t.Errorf("List: got %+v, want only good", list)
		}
		done <- result{"List", err}
	}()
	go func() {
		pb, err := c.Find("good")
		if err == nil && pb.Name != "good" {
			err = fmt.Errorf("found %q", pb.Name)
		}
		done <- result{"Find", err}
	}()
	// A hang guard, not a speed check: a FIFO opened for reading blocks
	// until a writer comes.
	guard, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for range 2 {
		select {
		case r := <-done:
			checkHostile(t, dir, r.call, r.err)
		case <-guard.Done():
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil { // let the blocked opens through
				w.Close()
			}
			t.Fatal("List or Find blocked on a FIFO named fifo.yaml")
		}
	}
}

// checkHostile: Find finds the good playbook; List names the FIFO and the
// huge file in its error, never drops them silently.
func checkHostile(t *testing.T, dir, call string, err error) {
	t.Helper()
	if call == "Find" {
		if err != nil {
			t.Errorf("Find(good): %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("List: got no error, want the FIFO and the huge file named, not dropped")
	}
	for _, want := range []string{`reading playbook "` + dir + `/fifo.yaml": not a regular file`,
		`reading playbook "` + dir + `/huge.yaml": larger than 4194304 bytes (1099511627776)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("List error: got %v, want it to hold %q", err, want)
		}
	}
}

// TestReadInputsFileHuge: an inputs file over MaxSize is refused by its
// size, unread.
func TestReadInputsFileHuge(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "huge.yaml")
	sparse(t, p, 1<<40)
	_, err := ReadInputsFile(p)
	checkErr(t, err, `inputs: file "`+p+`" is larger than 4194304 bytes`)
}
