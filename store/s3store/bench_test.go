package s3store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// BenchmarkPut uploads 20 MiB (4 parts) to moto with 1 and 4 parts in
// flight; the ratio of the two is what parallel parts buy.
func BenchmarkPut(b *testing.B) {
	testenv.StartMoto(b)
	ctx := testenv.Context(b)
	cfg, _ := awsapi.LoadConfig(ctx, awsapi.Options{MaxAttempts: 1})
	clients := awsapi.NewClients(cfg)
	if _, err := clients.S3("").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	data := randomBytes(20 << 20)
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			st, _ := FromClients(clients, "s3://bench")
			st.PartSize, st.Concurrency = MinPartSize, conc
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := st.Put(ctx, "c/a.bin", bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
