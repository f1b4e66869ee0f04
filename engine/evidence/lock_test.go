package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestOpenCaseAllowsOneWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := NewDirStore(t.TempDir())
	first, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenCase(ctx, store, testHeader("cr-lock"), nil)
	want := fmt.Sprintf(`case "cr-lock" is being written by another run (pid %d); wait for it or use another --case`, os.Getpid())
	if !errors.Is(err, ErrCaseBusy) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second OpenCase while the first is open:\n got  %v\n want %q wrapping ErrCaseBusy", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Event(ctx, "late", "", nil); err == nil || !strings.Contains(err.Error(), "is closed") {
		t.Fatalf("Event after Close: got %v, want refused", err)
	}
	second, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatalf("OpenCase after the first closed: %v", err)
	}
	if _, err := second.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Finish released the lock: a resume may open it again.
	third, err := OpenCase(ctx, store, testHeader("cr-lock"), nil)
	if err != nil {
		t.Fatalf("OpenCase after Finish: %v", err)
	}
	if _, err := third.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(ctx, store, "cr-lock", nil); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", err, rep.Problems)
	}
}

// failOnce is a DirStore whose Append fails for the custody line that
// holds failEvent, once.
type failOnce struct {
	*DirStore
	failEvent string
	failed    bool
}

func (f *failOnce) Append(ctx context.Context, key string, line []byte) error {
	if !f.failed && strings.Contains(string(line), `"event":"`+f.failEvent+`"`) {
		f.failed = true
		return errors.New("store unreachable")
	}
	return f.DirStore.Append(ctx, key, line)
}

func TestLostCustodyEventFailsVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, _ := NewDirStore(t.TempDir())
	store := &failOnce{DirStore: dir, failEvent: "step.started"}
	c, err := OpenCase(ctx, store, testHeader("cr-gap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Event(ctx, "step.started", "gather", nil); err == nil {
		t.Fatal("the failing append did not fail")
	}
	if err := c.Event(ctx, "step.succeeded", "gather", nil); err != nil {
		t.Fatal(err)
	}
	m, err := c.Finish(ctx, "succeeded", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m.Custody.Lost != 1 {
		t.Fatalf("manifest custody.lost = %d, want 1", m.Custody.Lost)
	}
	rep, err := Verify(ctx, dir, "cr-gap", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"custody: 1 event(s) could not be recorded: step.started"}
	if strings.Join(rep.Problems, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
	// A resume keeps the count, from the gap line in the log.
	c2, err := OpenCase(ctx, dir, testHeader("cr-gap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := c2.Finish(ctx, "succeeded", time.Now()); err != nil || m2.Custody.Lost != 1 {
		t.Fatalf("resumed Finish: %v, lost %d, want 1", err, m2.Custody.Lost)
	}
}

func TestLostCountStrippedFromManifestStillFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, _ := NewDirStore(t.TempDir())
	store := &failOnce{DirStore: dir, failEvent: "step.started"}
	c, _ := OpenCase(ctx, store, testHeader("cr-gap2"), nil)
	_ = c.Event(ctx, "step.started", "gather", nil)
	if _, err := c.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	editManifest(t, dir.Root()+"/cr-gap2", func(m map[string]any) { m["custody"].(map[string]any)["lost"] = 0 })
	rep, _ := Verify(ctx, dir, "cr-gap2", nil)
	want := []string{
		"custody: 1 event(s) could not be recorded: step.started",
		"custody: the log's gap lines count 1 lost event(s), the manifest 0",
	}
	if strings.Join(rep.Problems, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
}
