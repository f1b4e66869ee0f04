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
	"net/url"
	"os"
	"path/filepath"
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
	// store that breaks mid-write does) and fail with it. RecordErr and
	// EventErr make every Record and Event fail with them, keeping
	// nothing, as a custody log that cannot be written does.
	PutErr, RecordErr, EventErr error
	// Dir, when set before use, makes Put stream each artifact to the
	// file Dir/NAME, whose file:// URL is its URI, rather than keep it in
	// memory: a memory image is large, and a test may read it where it
	// is. A Put that fails leaves no file.
	Dir string
	// Discard, when set before use, makes Put hash and count what it is
	// given and keep no bytes (benchmarks).
	Discard bool

	mu      sync.Mutex
	objects map[string][]byte
	arts    map[string]engine.Artifact
	metas   map[string]engine.ArtifactMeta
	stored  []engine.Artifact
	records []engine.Artifact
	events  []Event
	log     []Entry
}

// Entry is one call an action made, in the order made: Op is "put",
// "record" or "event"; Name the artifact's name (put), the artifact's
// kind (record) or the event's name; Detail the event's detail.
type Entry struct {
	Op, Name string
	Detail   map[string]any
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

// Put keeps r's bytes under meta.Name (or in Dir, or nowhere with
// Discard). A second Put under one name fails, as the real store refuses
// to overwrite an artifact.
func (e *Evidence) Put(ctx context.Context, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	if e.PutErr != nil {
		_, _ = r.Read(make([]byte, 1))
		return engine.Artifact{}, e.PutErr
	}
	e.mu.Lock()
	_, dup := e.arts[meta.Name]
	e.mu.Unlock()
	if dup {
		return engine.Artifact{}, fmt.Errorf("artifact %q stored twice", meta.Name)
	}
	b, a, err := e.write(meta.Name, r)
	if err != nil {
		return engine.Artifact{}, err
	}
	a.ID, a.Kind, a.Source, a.Complete = meta.Name, meta.Kind, meta.Source, true
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.arts[meta.Name]; dup {
		return engine.Artifact{}, fmt.Errorf("artifact %q stored twice", meta.Name)
	}
	if b != nil {
		e.objects[meta.Name] = b
	}
	e.arts[meta.Name], e.metas[meta.Name] = a, meta
	e.stored = append(e.stored, a)
	e.log = append(e.log, Entry{Op: "put", Name: meta.Name})
	return a, nil
}

// write hashes and counts r, keeping its bytes as the fields say: in
// memory (returned), in Dir/name, or nowhere.
func (e *Evidence) write(name string, r io.Reader) ([]byte, engine.Artifact, error) {
	h := sha256.New()
	switch {
	case e.Discard:
		n, err := io.Copy(h, r)
		return nil, engine.Artifact{URI: "discarded://" + name, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, err
	case e.Dir != "":
		p := filepath.Join(e.Dir, name)
		f, err := os.Create(p)
		if err != nil {
			return nil, engine.Artifact{}, err
		}
		n, err := io.Copy(io.MultiWriter(f, h), r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p) // atomic, as the contract says
			return nil, engine.Artifact{}, err
		}
		uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
		return nil, engine.Artifact{URI: uri, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, engine.Artifact{}, err
	}
	return b, engine.Artifact{URI: "fake://" + name, SHA256: SHA256(b), Size: int64(len(b))}, nil
}

// Record keeps a, unless RecordErr is set.
func (e *Evidence) Record(ctx context.Context, a engine.Artifact) error {
	if e.RecordErr != nil {
		return e.RecordErr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records = append(e.records, a)
	e.log = append(e.log, Entry{Op: "record", Name: a.Kind})
	return nil
}

// Event keeps the event and a copy of its detail, unless EventErr is set.
func (e *Evidence) Event(ctx context.Context, event string, detail map[string]any) error {
	if e.EventErr != nil {
		return e.EventErr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	d := maps.Clone(detail)
	e.events = append(e.events, Event{Name: event, Detail: d})
	e.log = append(e.log, Entry{Op: "event", Name: event, Detail: d})
	return nil
}

// Object is the bytes stored under name (read from Dir when it is set).
func (e *Evidence) Object(name string) ([]byte, bool) {
	if e.Dir != "" {
		if _, _, ok := e.Artifact(name); !ok {
			return nil, false
		}
		b, err := os.ReadFile(filepath.Join(e.Dir, name))
		return b, err == nil
	}
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
	return slices.Sorted(maps.Keys(e.arts))
}

// Stored are the artifacts Put answered, in order.
func (e *Evidence) Stored() []engine.Artifact {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.stored)
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

// EventsNamed are the details of the events called name, in order.
func (e *Evidence) EventsNamed(name string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []map[string]any
	for _, ev := range e.events {
		if ev.Name == name {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// Log is every call kept, in the order made.
func (e *Evidence) Log() []Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}
