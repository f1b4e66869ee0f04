package evidence

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/firebreak-ir/firebreak/engine"
)

// uploadLog copies the run's journal (and any other local log files) from
// the state dir into the case's artifacts, so a case directory or bucket is
// self-contained: the custody log says what happened, the journal says how
// the scheduler saw it. The engine writes custody.jsonl to the store itself.
//
// Rerunning it stores the journal as it is then; an earlier copy stays in
// the custody log with its own hash.
type uploadLog struct{}

var _ engine.Action = (*uploadLog)(nil)

// uploadLogParams declare upload-log's parameters.
type uploadLogParams struct {
	Path  string   `param:"path" default:"" doc:"the log to copy; empty: the run's journal"`
	Paths []string `param:"paths" default:"" doc:"more local log files to copy"`
}

func (*uploadLog) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "upload-log",
		Summary: "Copy the run's journal and other local logs into the case's evidence store",
		Params:  engine.ParamsOf[uploadLogParams](),
		Outputs: []engine.Output{
			{Name: "artifacts", Type: engine.TypeList, Doc: "one {name, uri, sha256, size} per file stored"},
		},
	}
}

func (*uploadLog) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[uploadLogParams](in.Params)
	if err != nil {
		return nil, err
	}
	paths, main := p.Paths, p.Path
	if main == "" {
		main = in.RunLogPath
	}
	if main != "" {
		paths = append([]string{main}, paths...)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("upload-log: no log to upload: this run keeps no journal (no state dir); give path: explicitly")
	}
	seen := map[string]bool{}
	for _, p := range paths {
		name := filepath.Base(p)
		if seen[name] {
			return nil, fmt.Errorf("upload-log: two logs named %q: their artifacts would collide, copy one in its own step", name)
		}
		seen[name] = true
	}
	stored := []any{}
	for _, p := range paths {
		name := filepath.Base(p)
		a, err := storeLog(ctx, in, p, name)
		if err != nil {
			return nil, err
		}
		stored = append(stored, map[string]any{"name": name, "uri": a.URI, "sha256": a.SHA256, "size": a.Size})
	}
	return engine.Outputs{"artifacts": stored}, nil
}

// storeLog stores the complete lines of the file at p. The journal is still
// being appended to while this step runs (its own start is in it), so the
// copy stops at the last newline present when it began: a consistent
// prefix, never half a record. It streams, so memory stays bounded
// whatever the log's size.
//
// The file is opened O_NONBLOCK: opening a FIFO blocks until a writer
// comes, whatever ctx says, and the regular-file check can only follow the
// open (checking before would race a swap of the file).
func storeLog(ctx context.Context, in *engine.StepInput, p, name string) (engine.Artifact, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("upload-log: opening %q: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("upload-log: reading %q: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return engine.Artifact{}, fmt.Errorf("upload-log: %q is not a regular file", p)
	}
	end, err := lastLineEnd(f, fi.Size())
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("upload-log: reading %q: %w", p, err)
	}
	meta := engine.ArtifactMeta{Name: name, Kind: "run-log", ContentType: "application/x-ndjson",
		Source: map[string]string{"run_id": in.RunID, "path": p}}
	a, err := in.Evidence.Put(ctx, meta, io.NewSectionReader(f, 0, end))
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("upload-log: storing %q in the evidence: %w", p, err)
	}
	return a, nil
}

// lastLineEnd returns the length of the longest prefix of the first size
// bytes of f that ends with a newline, or size when there is no newline at
// all (a log that is one unterminated line is still evidence).
func lastLineEnd(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return size, nil
}
