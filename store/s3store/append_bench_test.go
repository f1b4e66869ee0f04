package s3store

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// countingAPI counts the bytes the store uploads with PutObject.
type countingAPI struct {
	API
	put atomic.Int64
}

func (c *countingAPI) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.put.Add(aws.ToInt64(in.ContentLength))
	return c.API.PutObject(ctx, in, opts...)
}

// BenchmarkCustodyAppend appends 3,000 custody-sized lines (400 bytes: a
// for_each over 500 hosts) and reports the bytes uploaded to S3 for them.
func BenchmarkCustodyAppend(b *testing.B) {
	testenv.StartMoto(b)
	ctx := testenv.Context(b)
	cfg, _ := awsapi.LoadConfig(ctx, awsapi.Options{MaxAttempts: 1})
	client := awsapi.NewClients(cfg).S3("")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 400)
	run := 0
	for b.Loop() {
		api := &countingAPI{API: client}
		st, _ := New(api, "s3://bench")
		key := fmt.Sprintf("cr-%d/custody.jsonl", run)
		run++
		for range 3000 {
			if err := st.Append(ctx, key, line); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(api.put.Load()), "uploaded-bytes/3000-lines")
	}
}
