package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// DefaultSegmentSize bounds the bytes of one custody log segment, and so
// the bytes uploaded per appended line.
const DefaultSegmentSize = 64 << 10

// Append implements evidence.Store for S3, which has no append. A log
// LOG.jsonl is kept as numbered segments LOG.d/000001.jsonl, ...: each line
// rewrites only the current segment (one PutObject, atomic), which rolls
// to the next once it would pass SegmentSize, so an append uploads a
// bounded number of bytes however long the log grows (rewriting the whole
// log made a 3,000-line case upload 1.8 GB). Open of LOG.jsonl joins the
// segments.
//
// Every write is conditional: If-Match the ETag this store last saw for
// the segment, or If-None-Match "*" for a new one. Another writer that
// added a line in between makes the write fail with ErrCaseBusy instead
// of overwriting its line, so lines S3 confirmed are never lost and the
// chain never forks. Each log has its own lock, so concurrent runs
// (--targets) do not wait on each other's custody writes.
func (s *Store) Append(ctx context.Context, key string, line []byte) error {
	if !strings.HasSuffix(key, ".jsonl") {
		return fmt.Errorf("appending to %s: the S3 store appends only to .jsonl logs", s.URI(key))
	}
	if _, err := s.objectKey(key); err != nil {
		return err
	}
	lg := s.log(key)
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if !lg.loaded {
		if err := s.loadTail(ctx, key, lg); err != nil {
			return err
		}
	}
	seg, cur, etag := lg.seg, lg.data, lg.etag
	if len(cur) > 0 && int64(len(cur)+len(line)+1) > s.segmentSize() {
		seg, cur, etag = seg+1, nil, ""
	}
	if err := s.renew(ctx, key); err != nil {
		return err
	}
	next := make([]byte, 0, len(cur)+len(line)+1)
	next = append(append(append(next, cur...), line...), '\n')
	tag, err := s.putSegment(ctx, segmentKey(key, seg), next, etag)
	if err != nil {
		return err
	}
	lg.seg, lg.data, lg.etag = seg, next, tag
	return nil
}

func (s *Store) segmentSize() int64 {
	if s.SegmentSize <= 0 {
		return DefaultSegmentSize
	}
	return s.SegmentSize
}

// segmentKey names segment n (from 1) of the log at key.
func segmentKey(key string, n int) string { return evidence.SegmentKey(key, n) }

// putSegment writes data at key on the condition that S3 still holds the
// version etag names ("" = nothing yet), and returns the new ETag.
func (s *Store) putSegment(ctx context.Context, key string, data []byte, etag string) (string, error) {
	ok, _ := s.objectKey(key)
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &ok, Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: checksum}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	var out *s3.PutObjectOutput
	err := s.retry(ctx, func() (err error) {
		in.Body = bytes.NewReader(data)
		out, err = s.api.PutObject(ctx, in)
		return err
	})
	if err == nil {
		return aws.ToString(out.ETag), nil
	}
	// A write that failed on the way back may have landed: a retry of it
	// then meets its own line (412). S3 holding exactly data is success;
	// saying otherwise would leave the mirror behind S3 for good.
	if held, tag, rerr := s.get(ctx, key); rerr == nil && bytes.Equal(held, data) {
		return tag, nil
	}
	if !conflict(err) {
		return "", s.wrap("appending to", key, err)
	}
	return "", fmt.Errorf("%w: %w", evidence.CaseBusy("appending to %s: another run added to this log since this one read it: stop one of them; the log keeps every line S3 confirmed", s.URI(key)), err)
}

// conflict reports a failed write condition: 412, or S3's 409 for two
// conditional writes racing on one key (and moto's 404 for If-Match on a
// key that is gone).
func conflict(err error) bool {
	switch awsapi.Code(err) {
	case "PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey":
		return true
	}
	return false
}

// mirror is the current segment of one log as S3 holds it.
type mirror struct {
	mu     sync.Mutex
	loaded bool
	seg    int    // current segment, from 1
	data   []byte // its bytes
	etag   string // its ETag; "" while it does not exist
}

func (s *Store) log(key string) *mirror {
	s.mu.Lock()
	defer s.mu.Unlock()
	lg, ok := s.logs[key]
	if !ok {
		lg = &mirror{}
		s.logs[key] = lg
	}
	return lg
}

// loadTail finds the log's last segment and reads it with its ETag.
func (s *Store) loadTail(ctx context.Context, key string, lg *mirror) error {
	n := 0
	for ; ; n++ {
		if _, err := s.Stat(ctx, segmentKey(key, n+1)); err != nil {
			if isNotExist(err) {
				break
			}
			return err
		}
	}
	lg.seg, lg.data, lg.etag, lg.loaded = max(n, 1), nil, "", true
	if n == 0 {
		return nil
	}
	data, tag, err := s.get(ctx, segmentKey(key, n))
	if err != nil {
		lg.loaded = false
		return err
	}
	lg.data, lg.etag = data, tag
	return nil
}

// get reads a whole (small) object and its ETag.
func (s *Store) get(ctx context.Context, key string) ([]byte, string, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return nil, "", err
	}
	var out *s3.GetObjectOutput
	err = s.retry(ctx, func() (err error) {
		out, err = s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &ok}, quietChecksums)
		return err
	})
	if err != nil {
		return nil, "", s.wrap("reading", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", s.URI(key), err)
	}
	return data, aws.ToString(out.ETag), nil
}

// openLog reads a log written by Append: an object at key written before
// logs were segmented, if any, then every segment in order. It returns
// (nil, nil) when the log has no segment, for Open to read key plainly.
func (s *Store) openLog(ctx context.Context, key string) (io.ReadCloser, error) {
	first, _, err := s.get(ctx, segmentKey(key, 1))
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	legacy, _, err := s.get(ctx, key)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	buf := bytes.NewBuffer(legacy)
	buf.Write(first)
	for n := 2; ; n++ {
		data, _, err := s.get(ctx, segmentKey(key, n))
		if isNotExist(err) {
			return io.NopCloser(buf), nil
		}
		if err != nil {
			return nil, err
		}
		buf.Write(data)
	}
}
