package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/firebreak-ir/firebreak/engine"
)

// head keeps the first max bytes written to it and counts the rest.
type head struct {
	max   int
	buf   []byte
	total int64
}

func (h *head) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	h.total += int64(len(p))
	return len(p), nil
}

func (h *head) truncated() bool { return h.total > int64(len(h.buf)) }

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// validUTF8 cuts a partial rune off either end of b (left there by a byte
// limit) so the output is clean text in JSON.
func validUTF8(b []byte) string {
	for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return string(b)
}

// stream carries one of the child's output pipes to the evidence store
// while a capture keeps what the step's outputs need.
type stream struct {
	name    string // artifact name
	kind    string // artifact kind
	r       *os.File
	capture io.Writer
	cut     bool // the pipe was closed on us: output after that is lost
	stored  bool // the evidence store took it all

	art  engine.Artifact
	err  error
	done chan struct{}
}

func newStream(name, kind string, r *os.File, capture io.Writer) *stream {
	return &stream{name: name, kind: kind, r: r, capture: capture, done: make(chan struct{})}
}

// run stores the stream; it returns when the pipe ends. The store hashes
// what it writes. ev is never nil: a run without a case hands the step an
// Evidence that refuses to store, and the step fails saying so.
func (s *stream) run(ctx context.Context, ev engine.Evidence, source map[string]string) {
	defer close(s.done)
	defer s.r.Close()
	src := io.TeeReader(eofOnClose{s}, s.capture)
	meta := engine.ArtifactMeta{Name: s.name, Kind: s.kind, ContentType: "text/plain", Source: source}
	s.art, s.err = ev.Put(ctx, meta, src)
	if s.err != nil {
		s.err = fmt.Errorf("storing %s: %w", s.name, s.err)
	}
	s.stored = s.err == nil
	// Drain what Put left so the child never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, src)
}

// close ends a stream whose writer outlived the command (a grandchild that
// left the process group), so the step does not hang on it. What the pipe
// holds already is still read: a deadline stops only the wait for more
// (closing the pipe would drop it, should the reader be slow to run).
func (s *stream) close() {
	if s.r.SetReadDeadline(time.Now()) != nil {
		_ = s.r.Close()
	}
}

// sha256 is the hash of the whole output as the store took it; empty when
// the store failed.
func (s *stream) sha256() string {
	if s.stored {
		return s.art.SHA256
	}
	return ""
}

// eofOnClose reads the pipe and turns "closed by us" into the end of the
// output, remembering that it was cut.
type eofOnClose struct{ s *stream }

func (e eofOnClose) Read(p []byte) (int, error) {
	n, err := e.s.r.Read(p)
	if errors.Is(err, os.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
		e.s.cut = true
		return n, io.EOF
	}
	return n, err
}
