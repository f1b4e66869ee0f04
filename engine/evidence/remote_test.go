package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestArtifactInAnotherBucketIsRehashed: verify re-reads every
// artifact; one in an S3 bucket that is not the store is read through
// VerifyOptions.OpenURI, and without a way to read it verify fails.
func TestArtifactInAnotherBucketIsRehashed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	image := []byte("EMiL memory image in another bucket")
	sum := sha256.Sum256(image)
	const uri = "s3://sink-bucket/mem/host-1.lime"
	c, err := OpenCase(ctx, store, testHeader("cr-r"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Evidence("memory").Record(ctx, engine.Artifact{ID: "memory/host-1.lime", Kind: "memory-image", URI: uri,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(image)), Complete: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	serve := func(body []byte) func(context.Context, string) (io.ReadCloser, error) {
		return func(_ context.Context, u string) (io.ReadCloser, error) {
			if u != uri {
				return nil, fmt.Errorf("opened %q: %w", u, fs.ErrNotExist)
			}
			return io.NopCloser(bytes.NewReader(body)), nil
		}
	}
	tampered := bytes.ToUpper(image)
	tsum := sha256.Sum256(tampered)
	tests := []struct {
		name string
		open func(context.Context, string) (io.ReadCloser, error)
		want []string
	}{
		{"no opener", nil, []string{"artifact memory/host-1.lime: held at " + uri + ", which this verifier cannot read: its sha256 was not checked"}},
		{"intact", serve(image), nil},
		{"changed", serve(tampered), []string{"artifact memory/host-1.lime: sha256 mismatch: manifest " + hex.EncodeToString(sum[:]) + ", file " + hex.EncodeToString(tsum[:])}},
		{"gone", func(context.Context, string) (io.ReadCloser, error) { return nil, fs.ErrNotExist },
			[]string{"artifact memory/host-1.lime missing: " + uri}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := VerifyWith(ctx, store, "cr-r", VerifyOptions{OpenURI: tt.open})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Problems, tt.want) || len(rep.NotRehashable) != 0 {
				t.Fatalf("problems:\n got  %q (not re-hashable %q)\n want %q", rep.Problems, rep.NotRehashable, tt.want)
			}
		})
	}
}

// TestPutNeverOverwritesALeftover: an object already at the artifact's
// key (left by a crash between upload and custody line) is kept, and the
// new artifact gets the next free name.
func TestPutNeverOverwritesALeftover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	left := filepath.Join(store.Root(), "cr-l", "artifacts", "s", "x.json")
	if err := os.MkdirAll(filepath.Dir(left), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("leftover"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCase(ctx, store, testHeader("cr-l"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.Evidence("s").Put(ctx, engine.ArtifactMeta{Name: "x.json"}, strings.NewReader("new"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "artifacts/s/x-2.json" {
		t.Fatalf("id = %q, want artifacts/s/x-2.json", a.ID)
	}
	assertFile(t, left, "leftover")
}
