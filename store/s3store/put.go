package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Put implements evidence.Store. An object smaller than a part goes up in
// one PutObject; a larger one as a multipart upload that S3 shows only
// when it completes, and that is aborted on any failure, so nothing partial
// is ever under key. The result is confirmed by HeadObject, which also
// gives the version id and Object Lock retain-until.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (evidence.ObjectInfo, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return evidence.ObjectInfo{}, err
	}
	// Read the first part into a buffer that grows only as far as the
	// data goes: most artifacts are small JSON, not worth a part buffer.
	partSize := max(s.PartSize, MinPartSize)
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, partSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return evidence.ObjectInfo{}, fmt.Errorf("storing %s: reading the artifact: %w", s.URI(key), err)
	}
	h := sha256.New()
	size, first := n, head.Bytes()
	if n < partSize {
		err = s.putSmall(ctx, ok, first, h)
	} else {
		size, err = s.putMultipart(ctx, ok, first, r, h)
	}
	if err != nil {
		return evidence.ObjectInfo{}, s.wrap("storing", key, err)
	}
	return s.confirm(ctx, key, size, h)
}

func (s *Store) putSmall(ctx context.Context, ok string, data []byte, h hash.Hash) error {
	h.Write(data)
	return s.retry(ctx, func() error {
		_, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &ok,
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: checksum})
		return err
	})
}

// confirm reads the stored object's head: the size must be what was sent.
func (s *Store) confirm(ctx context.Context, key string, n int64, h hash.Hash) (evidence.ObjectInfo, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return evidence.ObjectInfo{}, fmt.Errorf("confirming upload: %w", err)
	}
	if info.Size != n {
		return evidence.ObjectInfo{}, fmt.Errorf("storing %s: S3 holds %d bytes, %d were sent: store it again", s.URI(key), info.Size, n)
	}
	info.SHA256 = hex.EncodeToString(h.Sum(nil))
	return info, nil
}

// putMultipart uploads first and the rest of r in parts, at most
// Concurrency in flight, each in its own buffer from a fixed pool.
func (s *Store) putMultipart(ctx context.Context, ok string, first []byte, r io.Reader, h hash.Hash) (int64, error) {
	var create *s3.CreateMultipartUploadOutput
	err := s.retry(ctx, func() (err error) {
		create, err = s.api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &ok, ChecksumAlgorithm: checksum})
		return err
	})
	if err != nil {
		return 0, err
	}
	parts, n, err := s.uploadParts(ctx, ok, create.UploadId, first, r, h)
	if err == nil {
		err = s.retry(ctx, func() error {
			_, err := s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &ok,
				UploadId: create.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			return err
		})
	}
	if err != nil {
		// The caller may have given up (ctx cancelled); the abort must
		// still go out or the parts linger, billed and half-stored.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = s.api.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &ok, UploadId: create.UploadId})
		return 0, err
	}
	return n, nil
}

func (s *Store) uploadParts(ctx context.Context, ok string, uploadID *string, first []byte, r io.Reader, h hash.Hash) ([]types.CompletedPart, int64, error) {
	conc, partLen := max(s.Concurrency, 1), len(first)
	pool := make(chan []byte, conc+1)
	for range conc {
		pool <- make([]byte, partLen)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	var mu sync.Mutex // guards parts, appended to by the part uploads
	var parts []types.CompletedPart
	var total int64
	buf, size := first, len(first)
	for num := int32(1); size > 0; num++ {
		h.Write(buf[:size])
		total += int64(size)
		data := buf[:size]
		g.Go(func() error {
			defer func() { pool <- data[:partLen] }()
			part, err := s.uploadPart(gctx, ok, uploadID, num, data)
			if err == nil {
				mu.Lock()
				parts = append(parts, *part)
				mu.Unlock()
			}
			return err
		})
		var rerr error
		buf, size, rerr = nextPart(gctx, pool, r, num)
		if rerr != nil {
			if err := g.Wait(); err != nil {
				return nil, 0, err // the upload failure that stopped the read
			}
			return nil, 0, fmt.Errorf("reading the artifact: %w", rerr)
		}
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	return parts, total, nil
}

// nextPart reads the part after num into a buffer from pool, waiting for
// one to be free; it stops at once when an upload has failed.
func nextPart(ctx context.Context, pool chan []byte, r io.Reader, num int32) ([]byte, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, context.Cause(ctx)
	}
	if num == maxParts {
		return nil, 0, checkEnd(r)
	}
	select {
	case buf := <-pool:
		n, err := io.ReadFull(r, buf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil
		}
		return buf, n, err
	case <-ctx.Done():
		return nil, 0, context.Cause(ctx)
	}
}

// maxParts is S3's limit on parts in one upload.
const maxParts = 10000

// checkEnd fails when r holds more than S3 can take in maxParts parts.
func checkEnd(r io.Reader) error {
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n > 0 {
		return fmt.Errorf("the artifact is larger than %d parts: raise the part size", maxParts)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// checksum makes S3 check every request body's SHA-256 on arrival (the
// SDK computes it), and is what S3 asks for before it accepts an object
// into an Object Lock bucket with default retention.
const checksum = types.ChecksumAlgorithmSha256

func (s *Store) uploadPart(ctx context.Context, ok string, uploadID *string, num int32, data []byte) (*types.CompletedPart, error) {
	var out *s3.UploadPartOutput
	err := s.retry(ctx, func() (err error) {
		out, err = s.api.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &ok, UploadId: uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			ChecksumAlgorithm: checksum})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("part %d: %w", num, err)
	}
	return &types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num), ChecksumSHA256: out.ChecksumSHA256}, nil
}

func transient(err error) bool { return engine.IsRetryable(awsapi.Classify(err)) }

// backoff is 200ms, 400ms, ... with jitter, so parallel parts do not
// retry in lockstep.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt-1, 5)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
