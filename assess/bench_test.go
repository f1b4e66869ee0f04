package assess

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

var benchRegions = []string{"eu-west-1", "us-east-1", "us-west-2"}

// BenchmarkAssessAccount runs every check over an account of 50 buckets
// and 20 VPCs in 3 regions on moto_server, and reports the API calls a run
// makes (counted by an SDK middleware, one per operation attempted).
func BenchmarkAssessAccount(b *testing.B) {
	m := testenv.StartMoto(b)
	ctx := context.Background()
	setup := awsapi.NewClients(m.Config())
	for i := range 50 {
		region := benchRegions[i%3]
		in := &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("bench-%02d", i))}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := setup.S3(region).CreateBucket(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := setup.EC2(benchRegions[i%3]).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i))}); err != nil {
			b.Fatal(err)
		}
	}
	var calls atomic.Int64
	var mu sync.Mutex
	byOp := map[string]int{}
	cfg := m.Config()
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			calls.Add(1)
			mu.Lock()
			byOp[middleware.GetServiceID(ctx)+":"+middleware.GetOperationName(ctx)]++
			mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	})
	clients := awsapi.NewClients(cfg)
	reg := NewRegistry()
	Register(reg)
	checks, _ := reg.Select(nil, nil)
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		rep = Assess(ctx, NewEnv(clients), checks, benchRegions, 8)
	}
	b.StopTimer()
	b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
	b.ReportMetric(float64(len(rep.Results)), "results/op")
	b.Logf("calls by operation over %d runs: %v", b.N, byOp)
	if rep.Summary.Error > 0 {
		b.Errorf("%d error results on moto: %+v", rep.Summary.Error, rep.Results)
	}
}
