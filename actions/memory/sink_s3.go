package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// S3API is what capture-memory needs from S3; *s3.Client satisfies it.
type S3API interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// S3 sink sizing. Parts start small and double every partsPerStep parts
// (S3 takes parts of unequal size), so no size need be known in advance:
// 10,000 parts hold about 8 TiB. What one sink holds in memory is bounded
// by bytes, not parts: at most inFlightBytes, or one part once parts are
// larger than that.
const (
	firstPartSize = 8 << 20
	maxPartSize   = 5 << 30
	partsPerStep  = 1000
	maxParts      = 10000
	inFlightBytes = 64 << 20
)

// tagComplete is the tag that says whether an object is a whole, verified
// image. Objects are created with "false" and switched to "true" only
// after verification, so no crash or failure leaves a partial image
// looking finished.
const tagComplete = "firebreak-complete"

// partSizeAt is the size of part n (1-based).
func partSizeAt(n int32) int {
	return min(firstPartSize<<min((n-1)/partsPerStep, 20), maxPartSize)
}

// s3Sink uploads a multipart object, parts in parallel within a byte
// budget: Write blocks until the part it is about to fill fits, which is
// what bounds memory whatever the image size. Each part carries its
// SHA-256, which S3 checks on receipt.
type s3Sink struct {
	ctx      context.Context
	api      S3API
	bucket   string
	key      string
	uri      string // s3://BUCKET/KEY, for the record and messages
	uploadID string

	buf    []byte
	bufCap int   // size of the part being filled
	held   int64 // budget held for it
	wg     sync.WaitGroup
	next   int32

	mu    sync.Mutex
	room  *sync.Cond // signalled when budget is returned
	used  int64      // budget held by the part being filled and uploads
	parts []types.CompletedPart
	sums  map[int32][]byte
	err   error
}

func openS3Sink(ctx context.Context, api S3API, bucket, key string) (*s3Sink, error) {
	uri := evidence.Location{Scheme: s3Scheme, Host: bucket}.Where(key)
	if api == nil {
		return nil, errors.New("an s3:// sink needs an S3 client: run with AWS configuration (region, credentials)")
	}
	out, err := api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ContentType:       aws.String("application/octet-stream"),
		Tagging:           aws.String(tagComplete + "=false"),
	})
	if err != nil {
		return nil, awsapi.Classify(fmt.Errorf("starting upload to %s: %w", uri, err))
	}
	s := &s3Sink{ctx: ctx, api: api, bucket: bucket, key: key, uri: uri, uploadID: aws.ToString(out.UploadId), sums: map[int32][]byte{}}
	s.room = sync.NewCond(&s.mu)
	return s, nil
}

// acquire waits until n more bytes fit in the budget. A part larger than
// the whole budget waits for everything else to finish.
func (s *s3Sink) acquire(n int64) int64 {
	n = min(n, inFlightBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.used+n > inFlightBytes {
		s.room.Wait()
	}
	s.used += n
	return n
}

func (s *s3Sink) giveBack(n int64) {
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
	s.room.Broadcast()
}

func (s *s3Sink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := s.failed(); err != nil {
			return 0, err
		}
		if s.buf == nil {
			if s.next == maxParts {
				return 0, fmt.Errorf("%s: image outgrew S3's %d parts", s.uri, maxParts)
			}
			s.bufCap = partSizeAt(s.next + 1)
			s.held = s.acquire(int64(s.bufCap))
			s.buf = getPartBuffer(s.bufCap)
		}
		c := min(len(p), s.bufCap-len(s.buf))
		s.buf = append(s.buf, p[:c]...)
		p = p[c:]
		if len(s.buf) == s.bufCap {
			s.send()
		}
	}
	return n, nil
}

func (s *s3Sink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// send uploads the filled buffer in the background.
func (s *s3Sink) send() {
	s.next++
	num, body, held := s.next, s.buf, s.held
	s.buf, s.held = nil, 0
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { putPartBuffer(body); s.giveBack(held) }()
		sum := sha256.Sum256(body)
		out, err := s.api.UploadPart(s.ctx, &s3.UploadPartInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.key), UploadId: aws.String(s.uploadID),
			PartNumber: aws.Int32(num), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		}, unsignedPayload)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			if s.err == nil {
				s.err = awsapi.Classify(fmt.Errorf("uploading part %d of %s: %w", num, s.uri, err))
			}
			return
		}
		s.parts = append(s.parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256})
		s.sums[num] = sum[:]
	}()
}

// Finish uploads the last part, completes the object, and checks it: the
// composite SHA-256 S3 reports against the one computed here, or, when the
// store reports none (moto may not), by reading the object back and hashing
// it. The object was created tagged firebreak-complete=false; only a
// verified whole image is retagged true, and a failure to retag fails the
// capture. An incomplete capture is kept, still tagged false.
func (s *s3Sink) Finish(ctx context.Context, complete bool, want storedSum) (stored, error) {
	uri := s.uri
	if len(s.buf) > 0 || s.next == 0 {
		if s.buf == nil {
			s.buf = []byte{} // an empty image is one empty part
		}
		s.send()
	}
	s.wg.Wait()
	if err := s.failed(); err != nil {
		s.abort(ctx)
		return stored{}, err
	}
	sort.Slice(s.parts, func(i, j int) bool { return *s.parts[i].PartNumber < *s.parts[j].PartNumber })
	out, err := s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key), UploadId: aws.String(s.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: s.parts},
	})
	if err != nil {
		s.abort(ctx)
		return stored{}, awsapi.Classify(fmt.Errorf("completing upload of %s: %w", uri, err))
	}
	st := stored{URI: uri, VersionID: aws.ToString(out.VersionId), Meta: map[string]any{}}
	if !complete {
		st.Meta["partial"] = true
		return st, nil
	}
	how, err := s.verify(ctx, want)
	st.Meta["s3_verified_by"] = how
	if err != nil {
		return st, err
	}
	_, err = s.api.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key),
		VersionId: out.VersionId,
		Tagging:   &types.Tagging{TagSet: []types.Tag{{Key: aws.String(tagComplete), Value: aws.String("true")}}}})
	if err != nil {
		return st, awsapi.Classify(fmt.Errorf("tagging %s %s=true after verifying it: %w", uri, tagComplete, err))
	}
	return st, nil
}

// abandon aborts an upload that never received the image: nothing is
// left at the key.
func (s *s3Sink) abandon(ctx context.Context) { s.abort(ctx) }

func (s *s3Sink) abort(ctx context.Context) {
	_, _ = s.api.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key), UploadId: aws.String(s.uploadID)})
}

// verify checks the uploaded object and says how: "checksum" (S3's
// composite SHA-256 of the parts) or "reread" (downloaded and hashed).
func (s *s3Sink) verify(ctx context.Context, want storedSum) (string, error) {
	head, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return "", awsapi.Classify(fmt.Errorf("checking %s: %w", s.uri, err))
	}
	if n := aws.ToInt64(head.ContentLength); n != want.Size {
		return "size", fmt.Errorf("%s holds %d bytes, want %d", s.uri, n, want.Size)
	}
	if got := aws.ToString(head.ChecksumSHA256); got != "" {
		// S3 answers "<base64>-<parts>"; moto leaves out the part count.
		if exp := s.composite(); got != exp && got+fmt.Sprintf("-%d", s.next) != exp {
			return "checksum", fmt.Errorf("%s checksum %q, want %q: the upload was corrupted, retry", s.uri, got, exp)
		}
		return "checksum", nil
	}
	obj, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key)})
	if err != nil {
		return "reread", awsapi.Classify(fmt.Errorf("reading back %s: %w", s.uri, err))
	}
	defer obj.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil {
		return "reread", engine.Retryable(fmt.Errorf("reading back %s: %w", s.uri, err))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
		return "reread", fmt.Errorf("%s hashes to %s, want %s: the upload was corrupted, retry", s.uri, got, want.SHA256)
	}
	return "reread", nil
}

// unsignedPayload signs a part's headers but not its body: the body's
// SHA-256 already travels as x-amz-checksum-sha256, which S3 checks, so
// the SDK hashing it again for the signature would be a third SHA-256 pass
// over every byte (the stream's, the part's, the signature's).
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// composite is S3's checksum of a multipart object: the SHA-256 of the
// parts' SHA-256 digests, then "-" and the part count.
func (s *s3Sink) composite() string {
	h := sha256.New()
	for i := int32(1); i <= s.next; i++ {
		h.Write(s.sums[i])
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + fmt.Sprintf("-%d", s.next)
}
