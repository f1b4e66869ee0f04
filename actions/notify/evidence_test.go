package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync"

	"github.com/firebreak-ir/firebreak/engine"
)

// fakeEvidence keeps what a step stores, hashing it as the real store does.
// The real store (engine/evidence) has its own tests; this one proves what
// the action hands over.
type fakeEvidence struct {
	mu      sync.Mutex
	objects map[string][]byte
	arts    map[string]engine.Artifact
	metas   map[string]engine.ArtifactMeta
	events  []fakeEvent
	failPut bool
}

type fakeEvent struct {
	name   string
	detail map[string]any
}

func newFakeEvidence() *fakeEvidence {
	return &fakeEvidence{objects: map[string][]byte{}, arts: map[string]engine.Artifact{}, metas: map[string]engine.ArtifactMeta{}}
}

func (f *fakeEvidence) Put(ctx context.Context, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	if f.failPut {
		// Read a little, as a store that breaks mid-write does.
		_, _ = r.Read(make([]byte, 1))
		return engine.Artifact{}, errors.New("disk full")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return engine.Artifact{}, err
	}
	sum := sha256.Sum256(b)
	a := engine.Artifact{ID: meta.Name, Kind: meta.Kind, URI: "fake://" + meta.Name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), Complete: true}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.objects[meta.Name]; dup {
		return engine.Artifact{}, errors.New("artifact " + meta.Name + " stored twice")
	}
	f.objects[meta.Name], f.arts[meta.Name], f.metas[meta.Name] = b, a, meta
	return a, nil
}

func (f *fakeEvidence) Record(ctx context.Context, a engine.Artifact) error { return nil }

func (f *fakeEvidence) Event(ctx context.Context, event string, detail map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, fakeEvent{event, detail})
	return nil
}

func (f *fakeEvidence) object(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[name]
	return b, ok
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
