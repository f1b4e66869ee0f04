package memory

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Stream failures. Each leaves the artifact marked incomplete; the first
// two are worth a retry (a new attempt starts a new artifact).
var (
	ErrStalled   = errors.New("memory stream stalled")
	ErrTruncated = errors.New("memory stream ended early")
	ErrOversize  = errors.New("memory stream longer than expected")
)

// bufSize is the one read buffer of a copy: memory use is this plus the
// sinks' own bounded buffers, whatever the image size.
const bufSize = 256 << 10

// copyJob is one stream from the target into the sinks.
type copyJob struct {
	Src io.Reader
	// Abort closes the SSH channel under Src, ending the reader
	// goroutine's Read. It is called once, when the copy returns.
	Abort    func()
	Stall    time.Duration
	Expected int64 // bytes expected on the wire; 0 = unknown
	// Approx makes Expected a lower bound (MemTotal for a raw device):
	// fewer bytes fail the copy, more are fine.
	Approx bool
	// Max, when set, is a hard upper bound even when Expected is not.
	Max int64
	// Check sees every byte before the sinks do (the LiME header parser);
	// its Write error stops the copy. It may be nil.
	Check interface {
		io.Writer
		Finish() error
	}
	Out      io.Writer // the sinks, compressed or not
	Progress ProgressTracker

	sw *sinkWriter
	// readingSince is when the reader goroutine entered the Read it is
	// blocked in (UnixNano), 0 while it is not reading (waiting for a free
	// buffer because the sinks are slow): only time spent waiting on the
	// target counts as a stall.
	readingSince atomic.Int64
	// clock measures stalls; nil is the real one. Tests give their own,
	// so that whether the target stalled is what the test says happened,
	// not how a busy machine scheduled the goroutines.
	clock *clock
}

// clock is the time a copy decides stalls by.
type clock struct {
	now      func() time.Time
	newTimer func(d time.Duration) stallTimer
}

// stallTimer is the part of *time.Timer a copy uses.
type stallTimer interface {
	Chan() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realTimer struct{ t *time.Timer }

func (r realTimer) Chan() <-chan time.Time { return r.t.C }
func (r realTimer) Reset(d time.Duration)  { r.t.Reset(d) }
func (r realTimer) Stop()                  { r.t.Stop() }

var realClock = &clock{now: time.Now, newTimer: func(d time.Duration) stallTimer { return realTimer{time.NewTimer(d)} }}

func (j *copyJob) clk() *clock {
	if j.clock == nil {
		return realClock
	}
	return j.clock
}

// sinkWriter writes to the sinks on its own goroutine, so that writing a
// chunk overlaps hashing it: SHA-256 is the largest CPU cost of a capture.
// Each chunk is handed over and waited for before its buffer is reused.
type sinkWriter struct {
	in  chan []byte
	out chan error
}

func startSinkWriter(w io.Writer) *sinkWriter {
	s := &sinkWriter{in: make(chan []byte), out: make(chan error)}
	go func() {
		for p := range s.in {
			_, err := w.Write(p)
			s.out <- err
		}
	}()
	return s
}

// copyResult is the uncompressed stream's hash and size, valid also when
// the copy failed (they then cover the bytes that arrived).
type copyResult struct {
	SHA256 string
	Size   int64
}

// run copies Src to Out, hashing the uncompressed bytes in the same pass.
// It fails when no byte arrives for Stall, when the stream ends before
// Expected or runs past it, when Check rejects the bytes, or when ctx ends.
//
// A reader goroutine feeds a small ring of buffers: the network read
// overlaps the hashing and the sink writes, and a stall or cancellation
// returns at once even when the Read under it cannot be interrupted.
func (j *copyJob) run(ctx context.Context) (copyResult, error) {
	h := sha256.New()
	var size int64
	done := make(chan struct{})
	chunks := j.readAhead(done)
	j.sw = startSinkWriter(j.Out)
	defer func() { close(done); j.Abort(); close(j.sw.in) }()
	timer := j.clk().newTimer(j.Stall)
	defer timer.Stop()
	res := func() copyResult { return copyResult{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size} }
	for {
		select {
		case <-timer.Chan():
			if left := j.stallLeft(); left > 0 {
				timer.Reset(left) // the sinks were slow, not the target
				continue
			}
			return res(), engine.Retryable(fmt.Errorf("%w: no data for %v (stall_timeout) after %d bytes", ErrStalled, j.Stall, size))
		case <-ctx.Done():
			return res(), fmt.Errorf("memory stream stopped after %d bytes: %w", size, context.Cause(ctx))
		case c := <-chunks:
			if c.n > 0 {
				timer.Reset(j.Stall)
				if err := j.take(c.buf[:c.n], h, &size); err != nil {
					return res(), err
				}
			}
			if c.err == io.EOF {
				return res(), j.finish(size)
			}
			if c.err != nil {
				return res(), engine.Retryable(fmt.Errorf("reading memory stream after %d bytes: %w", size, c.err))
			}
			c.free <- c.buf
		}
	}
}

// stallLeft is how long the reader may still wait in its current Read
// before that is a stall; Stall when it is not reading.
func (j *copyJob) stallLeft() time.Duration {
	since := j.readingSince.Load()
	if since == 0 {
		return j.Stall
	}
	return j.Stall - j.clk().now().Sub(time.Unix(0, since))
}

type chunk struct {
	buf  []byte
	n    int
	err  error
	free chan<- []byte
}

// readAhead reads Src into a ring of three buffers until an error or EOF.
func (j *copyJob) readAhead(done <-chan struct{}) <-chan chunk {
	const ring = 3
	free := make(chan []byte, ring)
	for range ring {
		free <- make([]byte, bufSize)
	}
	out := make(chan chunk, ring)
	go func() {
		for {
			var b []byte
			select {
			case b = <-free:
			case <-done:
				return
			}
			j.readingSince.Store(j.clk().now().UnixNano())
			n, err := j.Src.Read(b)
			j.readingSince.Store(0)
			select {
			case out <- chunk{buf: b, n: n, err: err, free: free}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// take checks, hashes and writes one chunk.
func (j *copyJob) take(p []byte, h hash.Hash, size *int64) error {
	if j.Expected > 0 && !j.Approx && *size+int64(len(p)) > j.Expected {
		return fmt.Errorf("%w: more than the expected %d bytes arrived; check expected_size", ErrOversize, j.Expected)
	}
	if j.Max > 0 && *size+int64(len(p)) > j.Max {
		return fmt.Errorf("%w: more than %d bytes arrived, the most the target's RAM layout allows", ErrOversize, j.Max)
	}
	// A chunk the checker rejects goes nowhere, so the partial artifact
	// and its hash cover the same bytes.
	if j.Check != nil {
		if _, err := j.Check.Write(p); err != nil {
			return err
		}
	}
	// Hashing overlaps the write; a chunk the sinks did not take is taken
	// back out of the hash, so the hash and size never cover bytes the
	// sinks do not hold.
	before, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	j.sw.in <- p
	h.Write(p)
	if err := <-j.sw.out; err != nil {
		_ = h.(encoding.BinaryUnmarshaler).UnmarshalBinary(before)
		return fmt.Errorf("writing memory image: %w", err)
	}
	*size += int64(len(p))
	if j.Progress != nil {
		j.Progress.Add(int64(len(p)))
	}
	return nil
}

// finish decides whether a stream that reached EOF is whole.
func (j *copyJob) finish(size int64) error {
	if j.Check != nil {
		if err := j.Check.Finish(); err != nil {
			if errors.Is(err, ErrTruncated) {
				return engine.Retryable(err)
			}
			return err
		}
	}
	if j.Expected > 0 && size < j.Expected {
		what := "expected"
		if j.Approx {
			what = "expected (at least, from MemTotal)"
		}
		return engine.Retryable(fmt.Errorf("%w: got %d of %d %s bytes", ErrTruncated, size, j.Expected, what))
	}
	return nil
}

// fanout writes each chunk to every writer in turn. A sink that fails
// fails the whole capture: a silently missing copy is worse than a retry.
type fanout []io.Writer

func (f fanout) Write(p []byte) (int, error) {
	for _, w := range f {
		if _, err := w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// countHash hashes and counts what passes to w: the stored (compressed)
// bytes, which are what verify re-hashes.
type countHash struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newCountHash(w io.Writer) *countHash { return &countHash{w: w, h: sha256.New()} }

func (c *countHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.size += int64(n)
	return n, err
}

func (c *countHash) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }
