package memory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// fakeClock is a copy's clock as a test tells it: now moves only when the
// test advances it, and the stall timer fires only when the test fires
// it (a buffered channel of one, as a time.Timer's).
type fakeClock struct {
	mu    sync.Mutex
	at    time.Time
	c     chan time.Time
	reset chan struct{} // a value each time the timer is set again
}

func newFakeClock() *fakeClock {
	return &fakeClock{at: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), c: make(chan time.Time, 1), reset: make(chan struct{}, 100)}
}

func (f *fakeClock) clock() *clock {
	return &clock{now: f.now, newTimer: func(time.Duration) stallTimer { return f }}
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = f.at.Add(d)
}

// fire makes the stall timer go off, unless it already has.
func (f *fakeClock) fire() {
	select {
	case f.c <- f.now():
	default:
	}
}

func (f *fakeClock) Chan() <-chan time.Time { return f.c }
func (f *fakeClock) Reset(time.Duration) {
	select {
	case f.reset <- struct{}{}:
	default:
	}
}
func (f *fakeClock) Stop() {}

// slowSink is a congested disk or S3: each write outlasts stall_timeout,
// so the stall timer goes off during every one.
type slowSink struct {
	clock *fakeClock
	n     int
}

func (s *slowSink) Write(p []byte) (int, error) {
	s.clock.fire()
	s.n += len(p)
	return len(p), nil
}

// TestSlowSinkIsNotAStall: stall_timeout measures the target, not the
// sinks: a stream whose every byte is ready is never "stalled" however
// slowly it is written. The timer goes off during every sink write, and
// the target's reads take no time at all on the test's clock, whatever
// the machine does with the goroutines.
func TestSlowSinkIsNotAStall(t *testing.T) {
	img := bytes.Repeat([]byte("m"), 12*bufSize)
	fc := newFakeClock()
	sink := &slowSink{clock: fc}
	j := &copyJob{Src: bytes.NewReader(img), Abort: func() {}, Stall: time.Millisecond, Expected: int64(len(img)), Out: sink, clock: fc.clock()}
	res, err := j.run(t.Context())
	if err != nil || res.Size != int64(len(img)) || sink.n != len(img) {
		t.Fatalf("run = %+v, %v (sink got %d); want all %d bytes and no error", res, err, sink.n, len(img))
	}
}

// gatedReader blocks in Read until released, saying when it is in Read.
type gatedReader struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return 0, io.EOF
}

// TestTargetThatWaitsIsAStall: the timer going off while the reader has
// waited on the target for longer than stall_timeout is a stall; going
// off before that only sets it again.
func TestTargetThatWaitsIsAStall(t *testing.T) {
	fc := newFakeClock()
	src := &gatedReader{entered: make(chan struct{}), release: make(chan struct{})}
	defer close(src.release)
	j := &copyJob{Src: src, Abort: func() {}, Stall: time.Minute, Out: io.Discard, clock: fc.clock()}
	done := make(chan error, 1)
	go func() {
		_, err := j.run(t.Context())
		done <- err
	}()
	<-src.entered // the reader is waiting on the target from now on
	fc.advance(59 * time.Second)
	fc.fire()
	select {
	case err := <-done:
		t.Fatalf("run ended after 59s of a 1m stall_timeout: %v", err)
	case <-fc.reset: // the timer was set again for the second left
	}
	fc.advance(2 * time.Second)
	fc.fire()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStalled) {
			t.Fatalf("after 61s waiting on the target: got %v, want %v", err, ErrStalled)
		}
	case <-fc.reset:
		t.Fatal("after 61s waiting on the target the timer was set again: want a stall")
	}
}

// failAfter accepts the first write and fails the rest.
type failAfter struct{ writes int }

func (f *failAfter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestHashCoversOnlyWrittenBytes: a chunk the sink refused is not in the
// hash or the size.
func TestHashCoversOnlyWrittenBytes(t *testing.T) {
	img := bytes.Repeat([]byte("abc"), bufSize) // several chunks
	j := &copyJob{Src: &oneChunkReader{b: img}, Abort: func() {}, Stall: time.Minute, Out: &failAfter{}}
	res, err := j.run(t.Context())
	if err == nil {
		t.Fatal("run succeeded, want the sink's error")
	}
	sum := sha256.Sum256(img[:bufSize])
	if res.Size != bufSize || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("result = %+v, want the first chunk's %d bytes and hash %x", res, bufSize, sum)
	}
}

// oneChunkReader returns at most bufSize bytes a Read, so chunks are whole
// buffers.
type oneChunkReader struct{ b []byte }

func (r *oneChunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), bufSize)], r.b)
	r.b = r.b[n:]
	return n, nil
}
