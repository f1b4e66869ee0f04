package memory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"
)

// slowSink takes its time over every write, as a congested disk or S3 does.
type slowSink struct{ n int }

func (s *slowSink) Write(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond) // far past the 1ms stall_timeout below
	s.n += len(p)
	return len(p), nil
}

// TestSlowSinkIsNotAStall: stall_timeout measures the target, not the
// sinks: a stream whose every byte is ready is never "stalled" however
// slowly it is written.
func TestSlowSinkIsNotAStall(t *testing.T) {
	img := bytes.Repeat([]byte("m"), 12*bufSize)
	sink := &slowSink{}
	j := &copyJob{Src: bytes.NewReader(img), Abort: func() {}, Stall: time.Millisecond, Expected: int64(len(img)), Out: sink}
	res, err := j.run(t.Context())
	if err != nil || res.Size != int64(len(img)) || sink.n != len(img) {
		t.Fatalf("run = %+v, %v (sink got %d); want all %d bytes and no error", res, err, sink.n, len(img))
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
