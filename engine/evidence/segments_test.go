package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCaseCopiedFromS3VerifiesAndResumes: a case whose custody log is in
// segments (as the S3 store writes it, copied down with aws s3 sync)
// verifies in a directory, and a resume there continues the last segment.
func TestCaseCopiedFromS3VerifiesAndResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	buildCaseAs(t, store, "cr-seg", signer, engine.RunInterrupted)
	dir := filepath.Join(store.Root(), "cr-seg")
	data, err := os.ReadFile(filepath.Join(dir, "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if err := os.MkdirAll(filepath.Join(dir, "custody.d"), 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "custody.d", "000001.jsonl"), []byte(strings.Join(lines[:3], "")), 0o600)
	os.WriteFile(filepath.Join(dir, "custody.d", "000002.jsonl"), []byte(strings.Join(lines[3:], "")), 0o600)
	os.Remove(filepath.Join(dir, "custody.jsonl"))

	if rep, err := Verify(ctx, store, "cr-seg", pub); err != nil || !rep.OK() || rep.CustodyEntries != 6 {
		t.Fatalf("Verify of a segmented log: %v %q, %d lines", err, rep.Problems, rep.CustodyEntries)
	}
	c, err := OpenCase(ctx, store, testHeader("cr-seg"), signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "custody.jsonl")); err == nil {
		t.Fatal("the resume started a custody.jsonl beside the segments")
	}
	if rep, err := Verify(ctx, store, "cr-seg", pub); err != nil || !rep.OK() || rep.CustodyEntries != 8 {
		t.Fatalf("Verify after a resume: %v %q, %d lines", err, rep.Problems, rep.CustodyEntries)
	}
}
