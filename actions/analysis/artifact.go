package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/firebreak-ir/firebreak/engine"
)

func putJSON(ctx context.Context, ev engine.Evidence, meta engine.ArtifactMeta, v any) (engine.Artifact, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return engine.Artifact{}, fmt.Errorf("encoding %q: %w", meta.Name, err)
	}
	return putStream(ctx, ev, meta, &b)
}

func putStream(ctx context.Context, ev engine.Evidence, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	a, err := ev.Put(ctx, meta, r)
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("storing %q: %w", meta.Name, err)
	}
	return a, nil
}

// putWriter stores what write writes, streamed through a pipe: nothing is
// held whole.
func putWriter(ctx context.Context, ev engine.Evidence, meta engine.ArtifactMeta, write func(io.Writer) error) (engine.Artifact, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	a, err := putStream(ctx, ev, meta, pr)
	pr.CloseWithError(err) // a Put that stopped early ends the writer too
	return a, err
}
