package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/klauspost/compress/zstd"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// sinkSet is every place one image goes, behind one writer: the optional
// zstd compressor, a hash of the stored (compressed) bytes, and the
// fan-out to the sinks.
type sinkSet struct {
	writer io.Writer
	zw     *zstd.Encoder
	stored *countHash // nil when not compressed: stored bytes = the stream
	sinks  []sink
	ev     *evidenceSink // the run's evidence store, when no sinks are given
	in     *engine.StepInput
	host   string
}

func (c *capture) openSinks(ctx context.Context, in *engine.StepInput, p *params, name string, src *source) (*sinkSet, error) {
	ss := &sinkSet{in: in, host: p.Dial.Target.Host}
	var ws []io.Writer
	for _, t := range p.Sinks {
		var s sink
		var err error
		switch t.Scheme {
		case evidence.FileScheme:
			s, err = openFileSink(t.Path, name)
		case s3Scheme:
			s, err = openS3Sink(ctx, c.s3, t.Host, path.Join(t.Path, name))
		}
		if err != nil {
			ss.abandon(ctx)
			return nil, err
		}
		ss.sinks = append(ss.sinks, s)
		ws = append(ws, s)
	}
	if len(p.Sinks) == 0 {
		ss.ev = openEvidenceSink(ctx, in.Evidence, engine.ArtifactMeta{Name: name, Kind: "memory-image",
			ContentType: "application/octet-stream", Source: map[string]string{"host": p.Dial.Target.Host}})
		ws = append(ws, ss.ev)
	}
	var w io.Writer = fanout(ws)
	if len(ws) == 1 {
		w = ws[0]
	}
	if p.Compress == "zstd" {
		ss.stored = newCountHash(w)
		zw, err := zstd.NewWriter(ss.stored, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
		if err != nil {
			ss.abandon(ctx)
			return nil, fmt.Errorf("starting zstd: %w", err)
		}
		ss.zw, w = zw, zw
	}
	ss.writer = w
	return ss, nil
}

// close flushes the compressor; call it only for a whole stream.
func (ss *sinkSet) close() error {
	if ss.zw != nil {
		if err := ss.zw.Close(); err != nil {
			return fmt.Errorf("finishing zstd stream: %w", err)
		}
	}
	return nil
}

// discard ends the compressor after a failed stream. Its goroutines may
// still be writing: closing it before finish reads the stored hash keeps
// the recorded hash and the partial file the same bytes (and a valid zstd
// stream of everything that arrived). Its error adds nothing to the
// capture's own.
func (ss *sinkSet) discard() {
	if ss.zw != nil {
		_ = ss.zw.Close()
	}
}

// abandon ends sinks opened before a later one failed to open.
func (ss *sinkSet) abandon(ctx context.Context) {
	for _, s := range ss.sinks {
		s.abandon(ctx)
	}
}

// finish ends every sink and records each copy as an artifact: Complete
// only when the stream was whole and that sink confirmed its copy. It
// returns the artifacts and the first sink error.
func (ss *sinkSet) finish(ctx context.Context, complete bool, res copyResult, meta map[string]any) ([]engine.Artifact, error) {
	ctx = context.WithoutCancel(ctx) // a cancelled step still records what it holds
	want := storedSum(res)
	if ss.stored != nil {
		want = storedSum{SHA256: ss.stored.sum(), Size: ss.stored.size}
	}
	var arts []engine.Artifact
	var errs []error
	for _, s := range ss.sinks {
		st, err := s.Finish(ctx, complete, want)
		errs = append(errs, err)
		if st.URI == "" {
			continue
		}
		a := engine.Artifact{Step: ss.in.StepID, Kind: "memory-image", URI: st.URI, SHA256: want.SHA256, Size: want.Size,
			Source: map[string]string{"host": ss.host}, VersionID: st.VersionID, Complete: complete && err == nil,
			Meta: map[string]any{"uncompressed_sha256": res.SHA256, "uncompressed_size": res.Size}}
		for k, v := range meta {
			a.Meta[k] = v
		}
		for k, v := range st.Meta {
			a.Meta[k] = v
		}
		if rerr := ss.in.Evidence.Record(ctx, a); rerr != nil {
			errs = append(errs, rerr)
		}
		arts = append(arts, a)
	}
	if ss.ev != nil {
		a, err := ss.ev.finish(complete)
		errs = append(errs, err)
		if err == nil && complete {
			arts = append(arts, a)
		}
	}
	return arts, errors.Join(errs...)
}
