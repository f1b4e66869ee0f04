package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestRecordedFileSinkIsRehashed: a memory image written to its own
// file:// sink is recorded, then re-hashed by Verify where it lies.
func TestRecordedFileSinkIsRehashed(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	ctx := context.Background()
	sink := filepath.Join(t.TempDir(), "mem.lime")
	data := []byte("EMiL memory image")
	if err := os.WriteFile(sink, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	c, err := OpenCase(ctx, store, testHeader("cr-sink"), nil)
	if err != nil {
		t.Fatal(err)
	}
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(sink)}).String()
	for range 2 { // the same id twice: the second is suffixed, not lost
		if err := c.Evidence("memory").Record(ctx, engine.Artifact{ID: "memory/mem.lime", Kind: "memory-image", URI: uri,
			SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Complete: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Finish(ctx, "done", time.Now()); err == nil || !strings.Contains(err.Error(), `cannot finish with status "done"`) {
		t.Fatalf("Finish with a bad status: got %v", err)
	}
	m, err := c.Finish(ctx, "succeeded", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{m.Artifacts[0].ID, m.Artifacts[1].ID}; !slices.Equal(got, []string{"memory/mem.lime", "memory/mem-2.lime"}) {
		t.Fatalf("ids = %q", got)
	}
	rep, err := Verify(ctx, store, "cr-sink", nil)
	if err != nil || !rep.OK() || len(rep.Checked) != 2 {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
	os.WriteFile(sink, []byte("EMiL memory imagX"), 0o600)
	rep, _ = Verify(ctx, store, "cr-sink", nil)
	if len(rep.Problems) != 2 || !strings.HasPrefix(rep.Problems[0], "artifact memory/mem.lime: sha256 mismatch: manifest "+hex.EncodeToString(sum[:])) {
		t.Fatalf("problems = %q", rep.Problems)
	}
}

// TestMovedCaseVerifiesWhereItIs: a case dir copied elsewhere is checked
// at its new place, not at the paths its URIs name.
func TestMovedCaseVerifiesWhereItIs(t *testing.T) {
	t.Parallel()
	from, to := t.TempDir(), t.TempDir()
	store, _ := NewDirStore(from)
	signer, pub := testSigner(t)
	buildCase(t, store, "cr-mv", signer)
	if err := os.Rename(filepath.Join(from, "cr-mv"), filepath.Join(to, "cr-mv")); err != nil {
		t.Fatal(err)
	}
	moved, _ := NewDirStore(to)
	rep, err := Verify(context.Background(), moved, "cr-mv", pub)
	if err != nil || !rep.OK() || len(rep.Checked) != 2 {
		t.Fatalf("Verify of a moved case: %v %+v", err, rep)
	}
	os.WriteFile(filepath.Join(to, "cr-mv", "artifacts/gather/console.txt"), []byte("edited!!\n"), 0o600)
	rep, _ = Verify(context.Background(), moved, "cr-mv", pub)
	if len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], "artifact artifacts/gather/console.txt: sha256 mismatch") {
		t.Fatalf("problems = %q", rep.Problems)
	}
}
