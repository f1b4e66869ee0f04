package enginetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestEvidenceKeepsWhatIsStored(t *testing.T) {
	t.Parallel()
	ev := NewEvidence()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 { // fan-out items share one Evidence
		wg.Go(func() {
			name := fmt.Sprintf("out-%d.txt", i)
			if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: name, Kind: "stdout"}, strings.NewReader(name)); err != nil {
				t.Errorf("Put %s: %v", name, err)
			}
			_ = ev.Event(ctx, "stored", map[string]any{"name": name})
		})
	}
	wg.Wait()
	if got := len(ev.Names()); got != 8 || len(ev.Events()) != 8 {
		t.Fatalf("got %d objects and %d events, want 8 each", got, len(ev.Events()))
	}
	a, meta, ok := ev.Artifact("out-3.txt")
	if b, _ := ev.Object("out-3.txt"); !ok || string(b) != "out-3.txt" || a.SHA256 != SHA256(b) || a.Size != 9 || meta.Kind != "stdout" {
		t.Errorf("out-3.txt: got %q %+v %+v, want its bytes, hash and meta", b, a, meta)
	}
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "out-3.txt"}, strings.NewReader("again")); err == nil {
		t.Error("second Put under one name: got nil, want an error")
	}
	if err := ev.Record(ctx, engine.Artifact{ID: "snap"}); err != nil || len(ev.Records()) != 1 {
		t.Errorf("Record: got %v and %d records, want 1", err, len(ev.Records()))
	}
}

func TestEvidencePutErr(t *testing.T) {
	t.Parallel()
	full := errors.New("disk full")
	ev := NewEvidence()
	ev.PutErr = full
	r := strings.NewReader("abc")
	if _, err := ev.Put(context.Background(), engine.ArtifactMeta{Name: "x"}, r); !errors.Is(err, full) || r.Len() != 2 {
		t.Errorf("Put: got %v with %d bytes unread, want %v after reading one byte", err, r.Len(), full)
	}
	if _, ok := ev.Object("x"); ok {
		t.Error("a failed Put kept its object")
	}
}

// TestEvidenceDirAndDiscard: with Dir an artifact is streamed to a file
// (none left by a failed Put); with Discard only its hash and size stay.
func TestEvidenceDirAndDiscard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := NewEvidence()
	ev.Dir = t.TempDir()
	a, err := ev.Put(ctx, engine.ArtifactMeta{Name: "mem.lime", Kind: "memory-image"}, strings.NewReader("image"))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := ev.Object("mem.lime"); !ok || string(b) != "image" || a.URI != "file://"+filepath.ToSlash(filepath.Join(ev.Dir, "mem.lime")) || a.SHA256 != SHA256(b) {
		t.Errorf("Dir: got %q %+v, want the bytes in a file named by the URI", b, a)
	}
	broken := errors.New("stream broke")
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "half.lime"}, io.MultiReader(strings.NewReader("half"), iotest.ErrReader(broken))); !errors.Is(err, broken) {
		t.Errorf("Put from a broken reader: got %v, want %v", err, broken)
	}
	if _, err := os.Stat(filepath.Join(ev.Dir, "half.lime")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Put left its file: %v", err)
	}
	d := NewEvidence()
	d.Discard = true
	a, err = d.Put(ctx, engine.ArtifactMeta{Name: "out"}, strings.NewReader("abc"))
	if _, kept := d.Object("out"); err != nil || kept || a.Size != 3 || a.SHA256 != SHA256([]byte("abc")) {
		t.Errorf("Discard: got %+v, %v, kept %v; want the hash and size only", a, err, kept)
	}
}

// TestEvidenceLogAndErrors: Log keeps puts, records and events in the
// order made; RecordErr and EventErr fail those calls and keep nothing.
func TestEvidenceLogAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := NewEvidence()
	_ = ev.Event(ctx, "aws-change", map[string]any{"call": "ec2:CreateTags"})
	_, _ = ev.Put(ctx, engine.ArtifactMeta{Name: "state.json"}, strings.NewReader("{}"))
	_ = ev.Record(ctx, engine.Artifact{Kind: "snapshot"})
	_ = ev.Event(ctx, "aws-change", map[string]any{"call": "ec2:ModifyInstanceAttribute"})
	var got []string
	for _, e := range ev.Log() {
		got = append(got, e.Op+" "+e.Name)
	}
	if want := []string{"event aws-change", "put state.json", "record snapshot", "event aws-change"}; !slices.Equal(got, want) {
		t.Errorf("Log: got %v, want %v", got, want)
	}
	if d := ev.EventsNamed("aws-change"); len(d) != 2 || d[1]["call"] != "ec2:ModifyInstanceAttribute" {
		t.Errorf("EventsNamed: got %v", d)
	}
	if s := ev.Stored(); len(s) != 1 || s[0].ID != "state.json" {
		t.Errorf("Stored: got %v", s)
	}
	failing := NewEvidence()
	failing.RecordErr, failing.EventErr = errors.New("log full"), errors.New("log full")
	if err := failing.Record(ctx, engine.Artifact{}); err == nil || len(failing.Records()) != 0 {
		t.Errorf("Record with RecordErr: got %v, %d kept", err, len(failing.Records()))
	}
	if err := failing.Event(ctx, "x", nil); err == nil || len(failing.Log()) != 0 {
		t.Errorf("Event with EventErr: got %v, %d kept", err, len(failing.Log()))
	}
}
