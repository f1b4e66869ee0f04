package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// DefaultLeaseTTL is how long a case lease lasts without a custody write
// renewing it.
const DefaultLeaseTTL = 10 * time.Minute

var _ evidence.Locker = (*Store)(nil)

// lease is CASE/.lock: who writes the case, until when.
type lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// held is a lease this store took, with the ETag of its object.
type held struct {
	mu      sync.Mutex
	etag    string
	renewed time.Time
}

// Lock implements evidence.Locker with a lease object CASE/.lock, created
// with If-None-Match "*" so only one run gets it. S3 has no lock that
// dies with its process, so the lease expires (LeaseTTL) unless custody
// writes renew it; an expired lease is taken over (If-Match its ETag), so
// a run killed outright can be resumed once it lapses. The lease is for
// a clear refusal at open. What guarantees the log is the conditional
// segment writes (see Append): a run that lost its lease while idle is
// refused at its next line, never allowed to overwrite one.
func (s *Store) Lock(ctx context.Context, caseID string) (func() error, error) {
	if err := evidence.CheckCaseID(caseID); err != nil {
		return nil, err
	}
	key := caseID + "/.lock"
	etag, err := s.putLease(ctx, key, "")
	if conflict(err) {
		etag, err = s.takeOver(ctx, caseID, key)
	}
	if err != nil {
		return nil, err
	}
	h := &held{etag: etag, renewed: s.now()}
	s.mu.Lock()
	s.leases[caseID] = h
	s.mu.Unlock()
	return func() error { return s.unlock(caseID, key, h) }, nil
}

// takeOver replaces a lapsed lease; a live one makes the case busy.
func (s *Store) takeOver(ctx context.Context, caseID, key string) (string, error) {
	data, etag, err := s.get(ctx, key)
	if isNotExist(err) { // released in between: try once more
		return s.putLease(ctx, key, "")
	}
	if err != nil {
		return "", err
	}
	var l lease
	if json.Unmarshal(data, &l) == nil && s.now().Before(l.Expires) {
		return "", evidence.CaseBusy("case %q is being written by another run (%s, lease %s until %s); wait for it or use another --case (if that run is dead, the lease lapses then, or delete it)",
			caseID, l.Owner, s.URI(key), l.Expires.Format(time.RFC3339))
	}
	tag, err := s.putLease(ctx, key, etag)
	if conflict(err) {
		return "", evidence.CaseBusy("case %q is being written by another run (it took the lapsed lease %s first); wait for it or use another --case",
			caseID, s.URI(key))
	}
	return tag, err
}

// putLease writes a fresh lease, on the condition that S3 holds the
// version etag names ("" = none).
func (s *Store) putLease(ctx context.Context, key, etag string) (string, error) {
	host, _ := os.Hostname()
	body, _ := json.Marshal(lease{Owner: fmt.Sprintf("pid %d on %s, %s", os.Getpid(), host, s.token),
		Expires: s.now().Add(s.leaseTTL()).UTC()})
	ok, _ := s.objectKey(key)
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &ok, ContentLength: aws.Int64(int64(len(body))), ChecksumAlgorithm: checksum}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	out, err := s.api.PutObject(ctx, func() *s3.PutObjectInput { in.Body = bytes.NewReader(body); return in }())
	if err != nil {
		if conflict(err) {
			return "", err
		}
		return "", s.wrap("writing the case lease", key, err)
	}
	return aws.ToString(out.ETag), nil
}

// renew extends the lease of the case key lies in, when this store holds
// it and half its time has gone. A lease taken over by another run
// fails the write: this run is no longer the case's writer.
func (s *Store) renew(ctx context.Context, key string) error {
	caseID, _, _ := strings.Cut(key, "/")
	s.mu.Lock()
	h := s.leases[caseID]
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.now().Sub(h.renewed) < s.leaseTTL()/2 {
		return nil
	}
	tag, err := s.putLease(ctx, caseID+"/.lock", h.etag)
	if conflict(err) {
		return evidence.CaseBusy("case %q: its lease %s lapsed and another run took it: this run can no longer write the case", caseID, s.URI(caseID+"/.lock"))
	}
	if err != nil {
		return err
	}
	h.etag, h.renewed = tag, s.now()
	return nil
}

// unlock deletes the lease if it is still this store's.
func (s *Store) unlock(caseID, key string, h *held) error {
	s.mu.Lock()
	if s.leases[caseID] == h {
		delete(s.leases, caseID)
	}
	s.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	ok, _ := s.objectKey(key)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &ok, IfMatch: aws.String(h.etag)})
	if err != nil && !conflict(err) && !awsapi.IsNotFound(err) {
		return s.wrap("releasing the case lease", key, err)
	}
	return nil
}

func (s *Store) leaseTTL() time.Duration {
	if s.LeaseTTL <= 0 {
		return DefaultLeaseTTL
	}
	return s.LeaseTTL
}

func (s *Store) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func newToken() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "store " + hex.EncodeToString(b)
}
