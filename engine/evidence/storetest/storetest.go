// Package storetest checks that an evidence.Store keeps its contract, in
// the style of testing/fstest: a store's own tests call TestStore, and a
// store that passes can hold a case (OpenCase, Finish, Verify).
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// NewStore sets up empty backing for one test (a fresh directory, a fresh
// bucket prefix) and returns open, which makes a new Store value on that
// backing each time it is called: what another process, or a resumed run,
// would open. It is called from parallel subtests.
type NewStore func(t *testing.T) (open func() evidence.Store)

// TestStore runs the conformance tests on the stores newStore makes:
// Put (hash, size, atomic), Open, Stat, URI, Append (order, durability,
// segments, concurrency), hostile keys, Locker and URIOpener when the
// store has them, and a whole case through OpenCase, Finish and Verify.
// Append is exercised on .jsonl keys, the only ones a case appends to
// (the S3 store appends to nothing else).
func TestStore(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func() evidence.Store)
	}{
		{"PutOpen", testPutOpen},
		{"PutIsAtomic", testPutIsAtomic},
		{"Missing", testMissing},
		{"StatAndURI", testStatAndURI},
		{"HostileKeys", testHostileKeys},
		{"Append", testAppend},
		{"AppendIsDurable", testAppendIsDurable},
		{"AppendConcurrent", testAppendConcurrent},
		{"Segments", testSegments},
		{"Locker", testLocker},
		{"OpenURI", testOpenURI},
		{"Case", testCase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

// data is n reproducible bytes that do not compress.
func data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// read opens key and reads it whole.
func read(t *testing.T, st evidence.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return b
}

func testPutOpen(t *testing.T, open func() evidence.Store) {
	st := open()
	for _, tc := range []struct {
		key  string
		body []byte
	}{
		{"c1/artifacts/s/empty.txt", nil},
		{"c1/artifacts/s/small.json", []byte(`{"InstanceId":"i-0abc"}`)},
		{"c1/artifacts/s/large.bin", data(300<<10, 1)},
	} {
		info, err := st.Put(t.Context(), tc.key, io.MultiReader(bytes.NewReader(tc.body))) // a plain Reader, no Len or Seek
		if err != nil {
			t.Fatalf("Put(%q): %v", tc.key, err)
		}
		if want := sum(tc.body); info.SHA256 != want || info.Size != int64(len(tc.body)) || info.URI != st.URI(tc.key) {
			t.Errorf("Put(%q) = %+v; want sha256 %s, size %d, URI %s", tc.key, info, want, len(tc.body), st.URI(tc.key))
		}
		if got := read(t, st, tc.key); !bytes.Equal(got, tc.body) {
			t.Errorf("Open(%q): read %d bytes (sha256 %s), want %d (%s)", tc.key, len(got), sum(got), len(tc.body), sum(tc.body))
		}
	}
	if _, err := st.Put(t.Context(), "c1/artifacts/s/small.json", strings.NewReader("replaced")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, open(), "c1/artifacts/s/small.json"); string(got) != "replaced" {
		t.Errorf("after a second Put: read %q, want replaced", got)
	}
}

// failing gives n bytes, then err.
type failing struct {
	r   io.Reader
	err error
}

func (f *failing) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func testPutIsAtomic(t *testing.T, open func() evidence.Store) {
	st := open()
	ctx := t.Context()
	broken := errors.New("the stream broke")
	if _, err := st.Put(ctx, "c1/artifacts/s/new.bin", &failing{bytes.NewReader(data(200<<10, 2)), broken}); err == nil {
		t.Fatal("Put from a reader that fails: got no error")
	}
	for _, s := range []evidence.Store{st, open()} {
		if _, err := s.Stat(ctx, "c1/artifacts/s/new.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat after a failed Put: got %v, want fs.ErrNotExist (no partial object)", err)
		}
		if _, err := s.Open(ctx, "c1/artifacts/s/new.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open after a failed Put: got %v, want fs.ErrNotExist (no partial object)", err)
		}
	}
	if _, err := st.Put(ctx, "c1/artifacts/s/kept.txt", strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "c1/artifacts/s/kept.txt", &failing{bytes.NewReader(data(100<<10, 3)), broken}); err == nil {
		t.Fatal("Put over an object from a reader that fails: got no error")
	}
	if got := read(t, open(), "c1/artifacts/s/kept.txt"); string(got) != "first" {
		t.Errorf("after a failed Put over it: read %d bytes, want the object before untouched (\"first\")", len(got))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Put(cancelled, "c1/artifacts/s/cancelled.txt", strings.NewReader("x")); err == nil {
		t.Error("Put with a cancelled context: got no error")
	}
	if _, err := st.Stat(ctx, "c1/artifacts/s/cancelled.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after a cancelled Put: got %v, want fs.ErrNotExist", err)
	}
}

func testMissing(t *testing.T, open func() evidence.Store) {
	st := open()
	ctx := t.Context()
	if _, err := st.Put(ctx, "c1/artifacts/s/there.txt", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"nothing", "c1/artifacts/s/absent.txt", "c2/custody.jsonl"} {
		if _, err := st.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q): got %v, want an error wrapping fs.ErrNotExist", key, err)
		}
		if rc, err := st.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q): got %v, want an error wrapping fs.ErrNotExist", key, err)
		}
	}
}

func testStatAndURI(t *testing.T, open func() evidence.Store) {
	st := open()
	body := data(70<<10, 4)
	info, err := st.Put(t.Context(), "c1/artifacts/s/stat.bin", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := open().Stat(t.Context(), "c1/artifacts/s/stat.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != int64(len(body)) || got.URI != info.URI || (got.SHA256 != "" && got.SHA256 != info.SHA256) {
		t.Errorf("Stat = %+v, want size %d, URI %s and no or the right sha256", got, len(body), info.URI)
	}
	if info.VersionID != "" && got.VersionID != info.VersionID {
		t.Errorf("Stat version %q, Put said %q", got.VersionID, info.VersionID)
	}
	keys := []string{"c1/manifest.json", "c1/custody.jsonl", "c1/artifacts/s/stat.bin", "c2/manifest.json"}
	seen := map[string]string{}
	for _, k := range keys {
		uri := st.URI(k)
		if uri != open().URI(k) {
			t.Errorf("URI(%q) differs between two stores on the same backing", k)
		}
		if other, dup := seen[uri]; dup {
			t.Errorf("URI(%q) = URI(%q) = %s", k, other, uri)
		}
		seen[uri] = k
		loc, err := evidence.ParseLocation(uri)
		if err != nil {
			t.Errorf("URI(%q) = %q, which is not a location: %v", k, uri, err)
			continue
		}
		if _, name, _ := loc.Split(); !strings.HasSuffix(k, "/"+name) {
			t.Errorf("URI(%q) = %q: its last segment %q is not the key's", k, uri, name)
		}
	}
}

func testHostileKeys(t *testing.T, open func() evidence.Store) {
	st := open()
	ctx := t.Context()
	for _, key := range []string{"", "/abs", "../escape", "c1/../../escape", `c1\x`, "c1//x", "c1/./x", "c1/x\x00", "c1/\nx"} {
		if _, err := st.Put(ctx, key, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q): got no error", key)
		}
		if rc, err := st.Open(ctx, key); err == nil {
			rc.Close()
			t.Errorf("Open(%q): got no error", key)
		}
		if err := st.Append(ctx, key+".jsonl", []byte("x")); err == nil && key != "" {
			t.Errorf("Append(%q): got no error", key+".jsonl")
		}
		if _, err := st.Stat(ctx, key); err == nil {
			t.Errorf("Stat(%q): got no error", key)
		}
	}
}

func testAppend(t *testing.T, open func() evidence.Store) {
	st := open()
	var want bytes.Buffer
	for i := range 3 {
		line := fmt.Sprintf(`{"seq":%d}`, i+1)
		if err := st.Append(t.Context(), "c1/custody.jsonl", []byte(line)); err != nil {
			t.Fatalf("Append %d: %v", i+1, err)
		}
		want.WriteString(line + "\n")
	}
	if got := read(t, st, "c1/custody.jsonl"); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("log = %q, want %q", got, want.Bytes())
	}
	if err := st.Append(t.Context(), "c2/custody.jsonl", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, st, "c1/custody.jsonl"); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("another log's line changed this one: %q", got)
	}
}

// testAppendIsDurable: every line Append returned for is there for
// another store on the same backing, across segment boundaries (more
// than 64 KiB of lines), and a second writer (a resumed run) continues
// the log after the first.
func testAppendIsDurable(t *testing.T, open func() evidence.Store) {
	first := open()
	var want bytes.Buffer
	line := func(i int) []byte {
		return fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, i, strings.Repeat("x", 480))
	}
	for i := 1; i <= 160; i++ {
		if err := first.Append(t.Context(), "c1/custody.jsonl", line(i)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		want.Write(append(line(i), '\n'))
		if i == 1 || i == 150 {
			if got := read(t, open(), "c1/custody.jsonl"); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("after line %d another store reads %d bytes, want %d", i, len(got), want.Len())
			}
		}
	}
	second := open()
	for i := 161; i <= 165; i++ {
		if err := second.Append(t.Context(), "c1/custody.jsonl", line(i)); err != nil {
			t.Fatalf("Append %d by a second store: %v", i, err)
		}
		want.Write(append(line(i), '\n'))
	}
	if got := read(t, open(), "c1/custody.jsonl"); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("log read back: %d bytes, want %d in order", len(got), want.Len())
	}
}

// testAppendConcurrent: lines appended at once from several goroutines
// of one store are all there, whole, each goroutine's in its order.
func testAppendConcurrent(t *testing.T, open func() evidence.Store) {
	st := open()
	const writers, lines = 4, 15
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range lines {
				if err := st.Append(t.Context(), "c1/custody.jsonl", fmt.Appendf(nil, "w%d-%02d", w, i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Split(strings.TrimSuffix(string(read(t, open(), "c1/custody.jsonl")), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("got %d lines, want %d", len(got), writers*lines)
	}
	next := map[byte]int{}
	for _, l := range got {
		var w byte
		var i int
		if _, err := fmt.Sscanf(l, "w%c-%02d", &w, &i); err != nil || i != next[w] {
			t.Fatalf("line %q out of order or torn (want line %d of writer %c next)", l, next[w], w)
		}
		next[w]++
	}
}

// testSegments: a log kept as segments (evidence.SegmentKey), as the S3
// store writes it and as a case copied from one store to another holds
// it, after an older single object, reads joined and is continued.
func testSegments(t *testing.T, open func() evidence.Store) {
	st := open()
	ctx := t.Context()
	const log = "c1/custody.jsonl"
	for key, body := range map[string]string{log: "a\n", evidence.SegmentKey(log, 1): "b\nc\n", evidence.SegmentKey(log, 2): "d\n"} {
		if _, err := st.Put(ctx, key, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, open(), log); string(got) != "a\nb\nc\nd\n" {
		t.Errorf("segmented log = %q, want a b c d joined in order", got)
	}
	if err := open().Append(ctx, log, []byte("e")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, open(), log); string(got) != "a\nb\nc\nd\ne\n" {
		t.Errorf("after Append: %q, want the line after the last segment's", got)
	}
}

// sum is the hex SHA-256 of b, as ObjectInfo carries it.
func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
