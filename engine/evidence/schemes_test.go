package evidence

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestSchemesOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewSchemes()
	dir := filepath.Join(t.TempDir(), "made")
	st, err := s.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := st.(*DirStore); !ok || d.Root() != dir {
		t.Fatalf("Open(%q): got %T %v, want a DirStore there", dir, st, st)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the directory was not made: %v", err)
	}
	if _, err := s.Open(ctx, "file://"+dir); err != nil {
		t.Errorf("Open of its file URL: %v", err)
	}
	_, err = s.Open(ctx, "s3://bucket/cases")
	if want := `evidence location "s3://bucket/cases": no store for s3:// here; known: file`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Open of an unregistered scheme: got %v, want %q", err, want)
	}
	if _, err := s.Open(ctx, "s3:/bucket"); err == nil || !strings.Contains(err.Error(), "want s3://BUCKET") {
		t.Errorf("Open of a malformed location: got %v, want the parser's error", err)
	}
	if _, err := os.Stat("s3:"); err == nil {
		t.Errorf("a malformed location made a local directory named s3:")
	}
}

// TestSchemesRegister: a registered scheme opens through its Opener, with
// the location parsed; OpenURI reads a full URI of it.
func TestSchemesRegister(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backing := t.TempDir()
	var got []Location
	s := NewSchemes()
	s.Register("mem", func(_ context.Context, loc Location) (Store, error) {
		got = append(got, loc)
		return NewDirStore(filepath.Join(backing, loc.Host, filepath.FromSlash(loc.Path)))
	})
	if names := s.Names(); !slices.Equal(names, []string{"file", "mem"}) {
		t.Errorf("Names: got %v", names)
	}
	st, err := s.Open(ctx, "mem://b/cases")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "c1/artifacts/s/x.txt", strings.NewReader("held")); err != nil {
		t.Fatal(err)
	}
	rc, err := s.OpenURI(ctx, "mem://b/cases/c1/artifacts/s/x.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "held" {
		t.Errorf("OpenURI read %q, want held", b)
	}
	want := []Location{{Scheme: "mem", Host: "b", Path: "cases"}, {Scheme: "mem", Host: "b", Path: "cases/c1/artifacts/s"}}
	if !slices.Equal(got, want) {
		t.Errorf("opener saw %v, want %v", got, want)
	}
	if _, err := s.OpenURI(ctx, "mem://b"); err == nil || !strings.Contains(err.Error(), "names no object") {
		t.Errorf("OpenURI of a bucket: got %v, want names no object", err)
	}
}

func TestSchemesRegisterPanics(t *testing.T) {
	t.Parallel()
	open := func(context.Context, Location) (Store, error) { return nil, nil }
	for _, tt := range []struct {
		name   string
		scheme string
		open   Opener
	}{
		{"empty", "", open},
		{"upper case", "S3", open},
		{"not a scheme", "s3:", open},
		{"starts with a digit", "3s", open},
		{"nil opener", "x", nil},
		{"twice", "file", open},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tt.scheme)
				}
			}()
			NewSchemes().Register(tt.scheme, tt.open)
		})
	}
}

// TestSchemesOpenURIFile: a file URI is read only when it is a regular
// file, and its parent is not made.
func TestSchemesOpenURIFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "img.lime"), []byte("mem"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewSchemes()
	rc, err := s.OpenURI(ctx, "file://"+filepath.Join(dir, "img.lime"))
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := s.OpenURI(ctx, "file://"+fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("OpenURI of a FIFO: got %v, want not a regular file", err)
	}
	missing := filepath.Join(dir, "gone", "x")
	if _, err := s.OpenURI(ctx, "file://"+missing); !isNotExist(err) {
		t.Errorf("OpenURI of a missing file: got %v, want not-exist", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Errorf("OpenURI made the missing file's directory")
	}
}
