package evidence

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Evidence returns the engine.Evidence a step's action uses. It is safe
// for concurrent use: for_each items share it.
func (c *Case) Evidence(step string) engine.Evidence { return &stepEvidence{c: c, step: step} }

type stepEvidence struct {
	c    *Case
	step string
}

// Put stores r at CASE/artifacts/STEP/NAME (NAME made safe, and suffixed
// -2, -3 ... rather than overwrite evidence already there), then records
// it in the custody log. When either fails nothing is recorded.
func (s *stepEvidence) Put(ctx context.Context, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	id, err := s.c.reserve(ctx, "artifacts/"+sanitizeName(s.step)+"/", sanitizeName(meta.Name))
	if err != nil {
		return engine.Artifact{}, err
	}
	info, err := s.c.store.Put(ctx, s.c.key(id), r)
	if err != nil {
		s.c.release(id)
		return engine.Artifact{}, fmt.Errorf("storing artifact %q of step %q: %w", meta.Name, s.step, err)
	}
	a := engine.Artifact{
		ID: id, Step: s.step, Kind: meta.Kind, URI: info.URI, SHA256: info.SHA256, Size: info.Size,
		CollectedAt: s.c.now().UTC(), Source: maps.Clone(meta.Source), VersionID: info.VersionID,
		RetainUntil: info.RetainUntil, Complete: true,
	}
	if meta.ContentType != "" {
		a.Meta = map[string]any{"content_type": meta.ContentType}
	}
	if err := s.c.record(ctx, EventArtifactStored, a); err != nil {
		s.c.release(id)
		return engine.Artifact{}, err
	}
	return a, nil
}

// Record records an artifact held outside the store's artifacts dir: a
// snapshot (no hash; snapshot and volume ids in Source), a memory image in
// its own sinks. Complete is kept as the caller set it. An empty ID is
// made "recorded/STEP/KIND"; a taken one gets a suffix.
func (s *stepEvidence) Record(ctx context.Context, a engine.Artifact) error {
	if a.Step == "" {
		a.Step = s.step
	}
	if a.CollectedAt.IsZero() {
		a.CollectedAt = s.c.now().UTC()
	}
	base := a.ID
	if base == "" {
		base = "recorded/" + sanitizeName(a.Step) + "/" + sanitizeName(a.Kind)
	}
	dir, name := "", base
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		dir, name = base[:i+1], base[i+1:]
	}
	id, err := s.c.reserveID(dir, name)
	if err != nil {
		return err
	}
	a.ID = id
	if err := s.c.record(ctx, EventArtifactRecorded, a); err != nil {
		s.c.release(id)
		return err
	}
	return nil
}

// Event implements engine.Evidence.
func (s *stepEvidence) Event(ctx context.Context, event string, detail map[string]any) error {
	return s.c.Event(ctx, event, s.step, detail)
}

// reserve picks an artifact id dir+name, or dir+name-N, that neither this
// case nor the store holds yet, and holds it until release or record.
func (c *Case) reserve(ctx context.Context, dir, name string) (string, error) {
	for {
		id, err := c.reserveID(dir, name)
		if err != nil {
			return "", err
		}
		// An object left by a crash between Put and its custody line is
		// not recorded evidence, but it is not ours to overwrite either.
		_, err = c.store.Stat(ctx, c.key(id))
		if isNotExist(err) {
			return id, nil
		}
		if err != nil {
			c.release(id)
			return "", fmt.Errorf("checking %q before storing: %w", c.store.URI(c.key(id)), err)
		}
		c.mu.Lock()
		c.used[id] = true // stays taken: something is there
		c.mu.Unlock()
	}
}

func (c *Case) reserveID(dir, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := 1; n < 100000; n++ {
		id := dir + name
		if n > 1 {
			id = dir + withSuffix(name, n)
		}
		if !c.used[id] {
			c.used[id] = true
			return id, nil
		}
	}
	return "", fmt.Errorf("too many artifacts named %q in %q: give them distinct names", name, dir)
}

func (c *Case) release(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.used, id)
}

// record writes the custody line for a and, once it is durable, adds a to
// the manifest's list, under one lock so both keep the same order.
func (c *Case) record(ctx context.Context, event string, a engine.Artifact) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := Entry{Event: event, Step: a.Step, Detail: map[string]any{"artifact": a},
		Artifact: &ArtifactRef{ID: a.ID, URI: a.URI, SHA256: a.SHA256}}
	if err := c.appendLocked(ctx, e); err != nil {
		return fmt.Errorf("recording artifact %q: %w", a.ID, err)
	}
	c.artifacts = append(c.artifacts, a)
	return nil
}
