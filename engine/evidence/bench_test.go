package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

const benchSize = 32 << 20

// BenchmarkDirStorePut and BenchmarkPlainWriteHash compare an atomic,
// fsynced, hashed Put with the least any store must do (write and hash):
// the ratio is the price of durability and atomicity.
func BenchmarkDirStorePut(b *testing.B) {
	s, _ := NewDirStore(b.TempDir())
	data := bytes.Repeat([]byte("0123456789abcdef"), benchSize/16)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := s.Put(context.Background(), "c/a.bin", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainWriteHash(b *testing.B) {
	dir := b.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), benchSize/16)
	b.SetBytes(benchSize)
	for b.Loop() {
		f, err := os.Create(filepath.Join(dir, "a.bin"))
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(f, h), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkCaseEvent is the cost of one custody line (fsynced append).
func BenchmarkCaseEvent(b *testing.B) {
	s, _ := NewDirStore(b.TempDir())
	c, err := OpenCase(context.Background(), s, testHeader("cr-b"), nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := c.Event(context.Background(), "tick", "s", map[string]any{"k": "v"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify re-checks a case of 8 small artifacts and its chain.
func BenchmarkVerify(b *testing.B) {
	s, _ := NewDirStore(b.TempDir())
	ctx := context.Background()
	c, _ := OpenCase(ctx, s, testHeader("cr-v"), nil)
	for range 8 {
		c.Evidence("g").Put(ctx, engine.ArtifactMeta{Name: "a.json"}, strings.NewReader(`{"a":1}`))
	}
	c.Finish(ctx, "succeeded", time.Now())
	for b.Loop() {
		if rep, err := Verify(ctx, s, "cr-v", nil); err != nil || !rep.OK() {
			b.Fatal(err, rep)
		}
	}
}
