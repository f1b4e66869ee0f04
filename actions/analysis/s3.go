package analysis

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// URIOpener opens an s3:// object for reading.
type URIOpener interface {
	OpenURI(ctx context.Context, uri string) (io.ReadCloser, error)
}

// S3API is what reading an image from S3 needs; *s3.Client has it.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Opener opens s3://BUCKET/KEY through api, streaming.
type S3Opener struct{ API S3API }

// OpenURI implements URIOpener.
func (o S3Opener) OpenURI(ctx context.Context, uri string) (io.ReadCloser, error) {
	loc, err := evidence.ParseLocation(uri)
	bucket, key := loc.Host, loc.Path
	if err != nil || loc.Scheme != "s3" || key == "" {
		return nil, fmt.Errorf("%q is not s3://BUCKET/KEY", uri)
	}
	out, err := o.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, awsapi.Classify(err)
	}
	return out.Body, nil
}
