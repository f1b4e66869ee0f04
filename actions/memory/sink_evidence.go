package memory

import (
	"context"
	"errors"
	"io"

	"github.com/firebreak-ir/firebreak/engine"
)

// errIncomplete ends the evidence store's Put of a stream that was not whole.
var errIncomplete = errors.New("memory stream incomplete")

// evidenceSink streams the image into the run's evidence store
// (engine.Evidence.Put) through a pipe, so it is never held in memory.
// Put is atomic: for an incomplete stream it stores and records nothing,
// which is why a partial image can only be kept with explicit sinks; the
// custody log still gets the failed capture's hash and size.
type evidenceSink struct {
	pw   *io.PipeWriter
	done chan putResult
}

type putResult struct {
	a   engine.Artifact
	err error
}

func openEvidenceSink(ctx context.Context, ev engine.Evidence, meta engine.ArtifactMeta) *evidenceSink {
	pr, pw := io.Pipe()
	s := &evidenceSink{pw: pw, done: make(chan putResult, 1)}
	go func() {
		a, err := ev.Put(ctx, meta, pr)
		pr.CloseWithError(err) // unblocks the writer if Put gave up early
		s.done <- putResult{a, err}
	}()
	return s
}

func (s *evidenceSink) Write(p []byte) (int, error) { return s.pw.Write(p) }

func (s *evidenceSink) finish(complete bool) (engine.Artifact, error) {
	if !complete {
		s.pw.CloseWithError(errIncomplete)
		<-s.done
		return engine.Artifact{}, nil
	}
	s.pw.Close()
	r := <-s.done
	return r.a, r.err
}
