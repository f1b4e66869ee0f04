package s3store

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

var _ evidence.URIOpener = (*Store)(nil)

// OpenURI reads s3://BUCKET/KEY in any bucket the store's client can
// read, so evidence.Verify re-hashes a memory image whose sink was not
// the evidence store: verify re-reads every artifact.
func (s *Store) OpenURI(ctx context.Context, uri string) (io.ReadCloser, error) {
	loc, err := evidence.ParseLocation(uri)
	if err != nil {
		return nil, err
	}
	bucket, key := loc.Host, loc.Path
	if loc.Scheme != Scheme || key == "" {
		return nil, fmt.Errorf("%q is not an s3://BUCKET/KEY URI", uri)
	}
	other := &Store{api: s.api, bucket: bucket, Attempts: s.Attempts}
	var out *s3.GetObjectOutput
	err = other.retry(ctx, func() (err error) {
		out, err = s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}, quietChecksums)
		return err
	})
	if err != nil {
		return nil, other.wrapURI("reading "+uri, err)
	}
	return out.Body, nil
}
