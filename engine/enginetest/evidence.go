// Package enginetest holds test doubles of engine contracts for the tests
// of actions. It imports only engine.
package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/firebreak-ir/firebreak/engine"
)

// Evidence is an engine.Evidence that keeps what a step stores in memory,
// hashing it as the real store does. The real store (engine/evidence) has
// its own tests; this one proves what an action hands over. It is safe for
// concurrent use, as fan-out items share one Evidence.
type Evidence struct {
	// PutErr, when set before use, makes every Put read one byte (as a
	// store that breaks mid-write does) and fail with it.
	PutErr error

	mu      sync.Mutex
	objects map[string][]byte
	arts    map[string]engine.Artifact
	metas   map[string]engine.ArtifactMeta
	records []engine.Artifact
	events  []Event
}

// Event is one custody event an action appended.
type Event struct {
	Name   string
	Detail map[string]any
}

var _ engine.Evidence = (*Evidence)(nil)

// NewEvidence returns an empty Evidence.
func NewEvidence() *Evidence {
	return &Evidence{objects: map[string][]byte{}, arts: map[string]engine.Artifact{}, metas: map[string]engine.ArtifactMeta{}}
}

// Put keeps r's bytes under meta.Name. A second Put under one name fails,
// as the real store refuses to overwrite an artifact.
func (e *Evidence) Put(ctx context.Context, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	if e.PutErr != nil {
		_, _ = r.Read(make([]byte, 1))
		return engine.Artifact{}, e.PutErr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return engine.Artifact{}, err
	}
	a := engine.Artifact{ID: meta.Name, Kind: meta.Kind, URI: "fake://" + meta.Name, SHA256: SHA256(b),
		Size: int64(len(b)), Source: meta.Source, Complete: true}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.objects[meta.Name]; dup {
		return engine.Artifact{}, fmt.Errorf("artifact %q stored twice", meta.Name)
	}
	e.objects[meta.Name], e.arts[meta.Name], e.metas[meta.Name] = b, a, meta
	return a, nil
}

// Record keeps a.
func (e *Evidence) Record(ctx context.Context, a engine.Artifact) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records = append(e.records, a)
	return nil
}

// Event keeps the event and a copy of its detail.
func (e *Evidence) Event(ctx context.Context, event string, detail map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, Event{Name: event, Detail: maps.Clone(detail)})
	return nil
}

// Object is the bytes stored under name.
func (e *Evidence) Object(name string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.objects[name]
	return b, ok
}

// Artifact is what Put answered for name, and the meta it was given.
func (e *Evidence) Artifact(name string) (engine.Artifact, engine.ArtifactMeta, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.arts[name]
	return a, e.metas[name], ok
}

// Names are the names stored, sorted.
func (e *Evidence) Names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(maps.Keys(e.objects))
}

// Records are the artifacts recorded, in order.
func (e *Evidence) Records() []engine.Artifact {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.records)
}

// Events are the custody events appended, in order.
func (e *Evidence) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// SHA256 is the hex SHA-256 of b, as artifacts carry it.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
