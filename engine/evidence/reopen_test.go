package evidence

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// anonSigner signs with a key but cannot name it before signing, as a
// remote signer might not: Finish is where it is held to the case's key.
type anonSigner struct{ s *Ed25519Signer }

func (a anonSigner) Sign(msg []byte) (Signature, error) { return a.s.Sign(msg) }

// TestFinishNeverReplacesASignature: a resume whose signer could not be
// checked at open, and turns out to be another key, does not store its
// manifest: the one signed before stays, and verifies with its key.
func TestFinishNeverReplacesASignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	buildCaseAs(t, store, "cr-sig", signer, engine.RunInterrupted)
	manifest := filepath.Join(store.Root(), "cr-sig", "manifest.json")
	before, _ := os.ReadFile(manifest)
	other, _ := testSigner(t)
	c, err := OpenCase(ctx, store, testHeader("cr-sig"), anonSigner{other})
	if err != nil {
		t.Fatalf("OpenCase with a signer that cannot name its key: %v", err)
	}
	if _, err := c.Finish(ctx, engine.RunSucceeded, testHeader("").StartedAt); !errors.Is(err, ErrSignerChanged) {
		t.Fatalf("Finish with another key: got %v, want ErrSignerChanged", err)
	}
	c.Close()
	if after, _ := os.ReadFile(manifest); !bytes.Equal(after, before) {
		t.Fatal("Finish replaced the signed manifest")
	}
	if _, err := OpenCase(ctx, store, testHeader("cr-sig"), other); !errors.Is(err, ErrSignerChanged) {
		t.Fatalf("OpenCase with another key that names itself: got %v, want ErrSignerChanged", err)
	}
	if _, err := OpenCase(ctx, store, testHeader("cr-sig"), nil); !errors.Is(err, ErrSignerChanged) {
		t.Fatalf("OpenCase unsigned: got %v, want ErrSignerChanged", err)
	}
	c, err = OpenCase(ctx, store, testHeader("cr-sig"), signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, engine.RunSucceeded, testHeader("").StartedAt); err != nil {
		t.Fatalf("Finish with the case's own key: %v", err)
	}
	if rep, err := Verify(ctx, store, "cr-sig", pub); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", err, rep)
	}
}

// TestOpenCaseRefusesWhatIsNotItsOwn: another run's case, a finished one,
// and a folder holding a manifest but no custody log are all refused.
func TestOpenCaseRefusesWhatIsNotItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	buildCaseAs(t, store, "cr-failed", nil, engine.RunFailed)
	buildCase(t, store, "cr-done", nil)
	other := testHeader("cr-failed")
	other.RunID = "run-20261129T120000Z-ffffff"
	if _, err := OpenCase(ctx, store, other, nil); !errors.Is(err, ErrCaseExists) {
		t.Errorf("another run on a failed case: got %v, want ErrCaseExists", err)
	}
	if _, err := OpenCase(ctx, store, testHeader("cr-done"), nil); !errors.Is(err, ErrCaseExists) {
		t.Errorf("its own run on a case that succeeded: got %v, want ErrCaseExists", err)
	}
	os.MkdirAll(filepath.Join(store.Root(), "cr-orphan"), 0o700)
	os.WriteFile(filepath.Join(store.Root(), "cr-orphan", "manifest.json"), []byte(`{"case_id":"cr-orphan"}`), 0o600)
	if _, err := OpenCase(ctx, store, testHeader("cr-orphan"), nil); !errors.Is(err, ErrCaseExists) {
		t.Errorf("a manifest without custody: got %v, want ErrCaseExists", err)
	}
	c, err := OpenCase(ctx, store, testHeader("cr-failed"), nil)
	if err != nil {
		t.Fatalf("the run that failed, resumed: %v", err)
	}
	c.Close()
}
