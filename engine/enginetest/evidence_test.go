package enginetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

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
