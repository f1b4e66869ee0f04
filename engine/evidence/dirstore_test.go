package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestCheckKeyRejectsHostileKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{"empty", "", "is empty"},
		{"absolute", "/etc/passwd", "is absolute"},
		{"dotdot", "case/../../etc/passwd", `has a "." or ".." segment`},
		{"leading dotdot", "../x", `has a "." or ".." segment`},
		{"dot", "case/./x", `has a "." or ".." segment`},
		{"backslash", `case\..\x`, "holds a backslash"},
		{"empty segment", "case//x", "has an empty path segment"},
		{"trailing slash", "case/x/", "has an empty path segment"},
		{"nul", "case/x\x00y", "holds a control character"},
		{"newline", "case/x\ny", "holds a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKey(tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckKey(%q) = %v, want error containing %q", tt.key, err, tt.want)
			}
		})
	}
	if err := CheckKey("cr-1/artifacts/gather/instance.json"); err != nil {
		t.Fatalf("CheckKey of a good key: %v", err)
	}
}

func TestDirStoreRefusesKeysOutsideRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	s, err := NewDirStore(filepath.Join(parent, "ev"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"../outside", "/abs", `a\..\..\b`} {
		if _, err := s.Put(ctx, key, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q): got no error, want a refusal", key)
		}
		if err := s.Append(ctx, key, []byte("x")); err == nil {
			t.Errorf("Append(%q): got no error, want a refusal", key)
		}
		if _, err := s.Open(ctx, key); err == nil {
			t.Errorf("Open(%q): got no error, want a refusal", key)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "outside")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file escaped the root: %v", err)
	}
}

func TestDirStorePutHashesAndReadsBack(t *testing.T) {
	t.Parallel()
	s, _ := NewDirStore(t.TempDir())
	data := bytes.Repeat([]byte("evidence "), 100000)
	info, err := s.Put(context.Background(), "c/a/b.bin", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if info.SHA256 != hex.EncodeToString(sum[:]) || info.Size != int64(len(data)) {
		t.Fatalf("Put = %+v, want sha256 %x size %d", info, sum, len(data))
	}
	if want := "file://" + filepath.ToSlash(s.Root()) + "/c/a/b.bin"; info.URI != want {
		t.Fatalf("URI = %q, want %q", info.URI, want)
	}
	rc, err := s.Open(context.Background(), "c/a/b.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
}

// failingReader yields n bytes, then fails: a stream cut off mid-way.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'z'
	}
	f.n -= k
	return k, nil
}

func TestDirStoreFailedPutLeavesNothingAndKeepsOld(t *testing.T) {
	t.Parallel()
	s, _ := NewDirStore(t.TempDir())
	ctx := context.Background()
	if _, err := s.Put(ctx, "c/new.bin", &failingReader{n: 70000}); err == nil {
		t.Fatal("Put of a failing stream: got no error")
	}
	if _, err := s.Stat(ctx, "c/new.bin"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after a failed Put, Stat = %v, want not exist", err)
	}
	if _, err := s.Put(ctx, "c/old.bin", strings.NewReader("original")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "c/old.bin", &failingReader{n: 10}); err == nil {
		t.Fatal("overwriting Put of a failing stream: got no error")
	}
	assertFile(t, filepath.Join(s.Root(), "c/old.bin"), "original")
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "c"))
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only old.bin (no temp files left)", len(entries))
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s = %q, want %q", path, got, want)
	}
}

// TestDirStoreFullDisk fills a real 64 KiB tmpfs. It needs root and mount
// (testenv.MountTmpfs: a failure under FIREBREAK_REQUIRE_INTEGRATION=1).
func TestDirStoreFullDisk(t *testing.T) {
	dir := t.TempDir()
	testenv.MountTmpfs(t, dir, "64k")
	s, _ := NewDirStore(dir)
	ctx := context.Background()
	if _, err := s.Put(ctx, "c/small.txt", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, "c/custody.jsonl", []byte(`{"seq":1}`)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(ctx, "c/big.bin", bytes.NewReader(make([]byte, 1<<20)))
	want := `evidence dir "` + s.Root() + `" is full: `
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "what was stored before is intact") {
		t.Fatalf("Put on a full disk: got %v, want an error starting %q", err, want)
	}
	if _, err := s.Stat(ctx, "c/big.bin"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial object left under the key: %v", err)
	}
	// Fill the disk to the last byte so the append cannot fit.
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	_, _ = io.Copy(filler, bytes.NewReader(make([]byte, 1<<20)))
	filler.Close()
	err = s.Append(ctx, "c/custody.jsonl", bytes.Repeat([]byte("x"), 8192))
	if err == nil || !strings.Contains(err.Error(), "is full") {
		t.Fatalf("Append on a full disk: got %v, want a full-disk error", err)
	}
	assertFile(t, filepath.Join(dir, "c/small.txt"), "kept")
	assertFile(t, filepath.Join(dir, "c/custody.jsonl"), "{\"seq\":1}\n")
}

// TestCaseOnFullDisk: an artifact that does not fit fails with the
// full-disk error, is not recorded, and the case still verifies.
func TestCaseOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	testenv.MountTmpfs(t, dir, "256k")
	s, _ := NewDirStore(dir)
	ctx := context.Background()
	c, err := OpenCase(ctx, s, testHeader("cr-full"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := c.Evidence("gather")
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "small.json"}, strings.NewReader(`{}`)); err != nil {
		t.Fatal(err)
	}
	_, err = ev.Put(ctx, engine.ArtifactMeta{Name: "disk.img"}, bytes.NewReader(make([]byte, 1<<20)))
	if err == nil || !strings.Contains(err.Error(), `evidence dir "`+dir+`" is full`) {
		t.Fatalf("Put of 1 MiB into 256 KiB: got %v, want the full-disk error", err)
	}
	m, err := c.Finish(ctx, "failed", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 1 {
		t.Fatalf("manifest lists %d artifacts, want only the one that fit", len(m.Artifacts))
	}
	if rep, err := Verify(ctx, s, "cr-full", nil); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
}

// TestDirStoreSymlinkCannotEscape: a link planted in the evidence dir
// cannot send a write, an append or a read outside it.
func TestDirStoreSymlinkCannotEscape(t *testing.T) {
	t.Parallel()
	root, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)
	if err := os.Symlink(outside, filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	s, _ := NewDirStore(root)
	ctx := context.Background()
	if _, err := s.Put(ctx, "c/planted.txt", strings.NewReader("x")); err == nil {
		t.Error("Put through a symlink out of the root: got no error")
	}
	if err := s.Append(ctx, "c/custody.jsonl", []byte("x")); err == nil {
		t.Error("Append through a symlink out of the root: got no error")
	}
	if _, err := s.Open(ctx, "c/secret"); err == nil {
		t.Error("Open through a symlink out of the root: got no error")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Fatalf("outside dir holds %d entries, want only its own file", len(entries))
	}
}
