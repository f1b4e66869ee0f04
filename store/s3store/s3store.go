// Package s3store is an evidence.Store on s3://BUCKET/PREFIX. Artifacts
// are uploaded in parts, in parallel, with memory bounded by
// (Concurrency+1) × PartSize whatever the object's size, and hashed
// (SHA-256) in the same pass. The bucket's versioning and Object Lock are
// recorded per object.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// API is the part of the S3 client the store calls; *s3.Client has it.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) // the case lease only
}

// Defaults of a Store's tuning fields.
const (
	DefaultPartSize    = 8 << 20
	MinPartSize        = 5 << 20 // S3's minimum for every part but the last
	DefaultConcurrency = 4
	DefaultAttempts    = 3
)

// Store is an evidence.Store on S3. Set the tuning fields before first use;
// after that it is safe for concurrent use.
type Store struct {
	api            API
	bucket, prefix string

	PartSize    int64 // bytes per part; below MinPartSize means MinPartSize
	Concurrency int   // parts in flight at once
	// Attempts bounds how often a call that failed with a transient error
	// (awsapi.Classify) is made, on top of the SDK's own retries.
	Attempts int
	// SegmentSize bounds a custody log segment (see Append); 0 means
	// DefaultSegmentSize.
	SegmentSize int64
	// LeaseTTL is how long a case lease (see Lock) lasts unrenewed; 0
	// means DefaultLeaseTTL. Clock is for tests; nil is time.Now.
	LeaseTTL time.Duration
	Clock    func() time.Time

	token string // tells this store's leases from another's

	// mu guards logs, the custody mirrors (see Append), and leases.
	mu     sync.Mutex
	logs   map[string]*mirror
	leases map[string]*held
}

var _ evidence.Store = (*Store)(nil)

// New returns a store on uri, s3://BUCKET or s3://BUCKET/PREFIX, that
// calls api.
func New(api API, uri string) (*Store, error) {
	bucket, prefix, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return &Store{api: api, bucket: bucket, prefix: prefix, PartSize: DefaultPartSize,
		Concurrency: DefaultConcurrency, Attempts: DefaultAttempts, logs: map[string]*mirror{},
		leases: map[string]*held{}, token: newToken()}, nil
}

// FromClients returns a store on uri using the shared S3 client of the
// default region (path style when the endpoint is overridden).
func FromClients(c *awsapi.Clients, uri string) (*Store, error) {
	return New(c.S3(""), uri)
}

// Scheme is the location scheme of S3 stores: s3://BUCKET[/PREFIX].
const Scheme = "s3"

// Register adds the s3 scheme to schemes: a location s3://BUCKET[/PREFIX]
// opens a Store calling the client api returns, asked at each open, so
// that a caller can set its client up only when S3 is used.
func Register(schemes *evidence.Schemes, api func(context.Context) API) {
	schemes.Register(Scheme, func(ctx context.Context, loc evidence.Location) (evidence.Store, error) {
		return New(api(ctx), loc.String())
	})
}

// ParseURI splits s3://BUCKET/PREFIX (evidence.ParseLocation); the prefix
// has no leading or trailing slash.
func ParseURI(uri string) (bucket, prefix string, err error) {
	loc, err := evidence.ParseLocation(uri)
	if err != nil {
		return "", "", err
	}
	if loc.Scheme != Scheme {
		return "", "", fmt.Errorf("evidence location %q is not an S3 URI: write s3://BUCKET or s3://BUCKET/PREFIX", uri)
	}
	return loc.Host, loc.Path, nil
}

// objectKey maps a store key to the S3 key, refusing hostile keys.
func (s *Store) objectKey(key string) (string, error) {
	if err := evidence.CheckKey(key); err != nil {
		return "", err
	}
	if s.prefix == "" {
		return key, nil
	}
	return s.prefix + "/" + key, nil
}

// URI implements evidence.Store.
func (s *Store) URI(key string) string {
	return evidence.Location{Scheme: Scheme, Host: s.bucket, Path: s.prefix}.Where(key)
}

// Open implements evidence.Store; the body streams, but for a log kept
// in segments by Append (a .jsonl key), which is joined in memory.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(key, ".jsonl") {
		if rc, err := s.openLog(ctx, key); rc != nil || err != nil {
			return rc, err
		}
	}
	var out *s3.GetObjectOutput
	err = s.retry(ctx, func() (err error) {
		out, err = s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &ok}, quietChecksums)
		return err
	})
	if err != nil {
		return nil, s.wrap("reading", key, err)
	}
	return out.Body, nil
}

// quietChecksums stops the SDK logging that it skipped checking a
// response's checksum: readers of evidence hash every byte themselves.
func quietChecksums(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// Stat implements evidence.Store: size, version and retain-until, no hash.
func (s *Store) Stat(ctx context.Context, key string) (evidence.ObjectInfo, error) {
	ok, err := s.objectKey(key)
	if err != nil {
		return evidence.ObjectInfo{}, err
	}
	var out *s3.HeadObjectOutput
	err = s.retry(ctx, func() (err error) {
		out, err = s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &ok})
		return err
	})
	if err != nil {
		return evidence.ObjectInfo{}, s.wrap("checking", key, err)
	}
	return evidence.ObjectInfo{URI: s.URI(key), Size: aws.ToInt64(out.ContentLength),
		VersionID: aws.ToString(out.VersionId), RetainUntil: out.ObjectLockRetainUntilDate}, nil
}

// wrap names the object and maps S3's "no such key" onto fs.ErrNotExist,
// as the Store contract asks.
func (s *Store) wrap(verb, key string, err error) error {
	return s.wrapURI(verb+" "+s.URI(key), err)
}

func (s *Store) wrapURI(what string, err error) error {
	if awsapi.IsNotFound(err) && !strings.Contains(awsapi.Code(err), "Bucket") {
		return fmt.Errorf("%s: %w (%w)", what, fs.ErrNotExist, err)
	}
	if awsapi.Code(err) == "NoSuchBucket" {
		return fmt.Errorf("%s: bucket %q does not exist: create it (the evidence-bucket action makes a hardened one) or fix --evidence: %w", what, s.bucket, err)
	}
	return fmt.Errorf("%s: %w", what, awsapi.Classify(err))
}

var errNoAttempts = errors.New("no attempt made")

// retry calls f until it succeeds, fails with a permanent error, or has
// been tried Attempts times. Backoff is short: the SDK has already retried.
func (s *Store) retry(ctx context.Context, f func() error) error {
	err := errNoAttempts
	for i := range max(s.Attempts, 1) {
		if i > 0 {
			if werr := sleep(ctx, backoff(i)); werr != nil {
				return errors.Join(err, werr)
			}
		}
		if err = f(); err == nil || !transient(err) {
			return err
		}
	}
	return err
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
