package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Append implements evidence.Store for S3, which has no append: the store
// keeps a mirror of each log it appends to (read from S3 on first use)
// and rewrites the whole object with every line, under one lock. A
// custody log is a few hundred lines, so the rewrite is cheap, and it is
// simple and correct: the object in S3 always holds every line acked so
// far, each PutObject is atomic, and in a versioned bucket every earlier
// state is kept as a version. The mirror assumes one writer per case,
// which the runner guarantees; a line is added to it only once S3 has it.
// Each log has its own lock, so concurrent runs (--targets) do not wait
// on each other's custody writes.
func (s *Store) Append(ctx context.Context, key string, line []byte) error {
	ok, err := s.objectKey(key)
	if err != nil {
		return err
	}
	lg := s.log(key)
	lg.mu.Lock()
	defer lg.mu.Unlock()
	cur := lg.data
	if !lg.loaded {
		if cur, err = s.load(ctx, key); err != nil {
			return err
		}
	}
	next := make([]byte, 0, len(cur)+len(line)+1)
	next = append(append(append(next, cur...), line...), '\n')
	err = s.retry(ctx, func() error {
		_, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &ok,
			Body: bytes.NewReader(next), ContentLength: aws.Int64(int64(len(next))), ChecksumAlgorithm: checksum})
		return err
	})
	if err != nil {
		return s.wrap("appending to", key, err)
	}
	lg.data, lg.loaded = next, true
	return nil
}

// mirror is one custody log as S3 holds it.
type mirror struct {
	mu     sync.Mutex
	loaded bool
	data   []byte
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

// load reads the current log; a missing one is empty.
func (s *Store) load(ctx context.Context, key string) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.URI(key), err)
	}
	return data, nil
}
