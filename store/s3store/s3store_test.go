package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// startS3 starts moto and returns the shared S3 client the CLI would use
// (path style against the endpoint) and a versioned bucket.
func startS3(t *testing.T, bucket string) (*awsapi.Clients, *s3.Client) {
	t.Helper()
	testenv.StartMoto(t)
	ctx := testenv.Context(t)
	cfg, err := awsapi.LoadConfig(ctx, awsapi.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	clients := awsapi.NewClients(cfg)
	c := clients.S3("")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	return clients, c
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutMultipartReadsBack(t *testing.T) {
	clients, c := startS3(t, "evidence")
	ctx := testenv.Context(t)
	st, err := FromClients(clients, "s3://evidence/cases/")
	if err != nil {
		t.Fatal(err)
	}
	st.PartSize, st.Concurrency = MinPartSize, 3
	data := randomBytes(12 << 20) // three parts: 5, 5, 2 MiB
	// A plain io.Reader (no Seek, no Len) as an SSH stream would be.
	info, err := st.Put(ctx, "cr-1/artifacts/memory/mem.lime", io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != hexSHA(data) || info.Size != int64(len(data)) || info.VersionID == "" {
		t.Fatalf("Put = %+v, want sha256 %s, size %d and a version id", info, hexSHA(data), len(data))
	}
	if info.URI != "s3://evidence/cases/cr-1/artifacts/memory/mem.lime" {
		t.Fatalf("URI = %q", info.URI)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("evidence"), Key: aws.String("cases/cr-1/artifacts/memory/mem.lime")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.VersionId) != info.VersionID || aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Fatalf("HeadObject: version %q size %d, want %q %d", aws.ToString(head.VersionId), aws.ToInt64(head.ContentLength), info.VersionID, len(data))
	}
	if !strings.HasSuffix(strings.Trim(aws.ToString(head.ETag), `"`), "-3") {
		t.Fatalf("ETag %s: want a 3-part multipart upload", aws.ToString(head.ETag))
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("cases/cr-1/artifacts/memory/mem.lime")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if hexSHA(body) != info.SHA256 {
		t.Fatalf("object read back through the SDK hashes to %s, want %s", hexSHA(body), info.SHA256)
	}
}

func TestSmallPutStatOpenAppend(t *testing.T) {
	clients, _ := startS3(t, "evid")
	ctx := testenv.Context(t)
	st, _ := FromClients(clients, "s3://evid")
	if _, err := st.Stat(ctx, "c/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a missing key = %v, want fs.ErrNotExist", err)
	}
	if _, err := st.Open(ctx, "c/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing key = %v, want fs.ErrNotExist", err)
	}
	info, err := st.Put(ctx, "c/a.txt", strings.NewReader("hello"))
	if err != nil || info.Size != 5 || info.SHA256 != hexSHA([]byte("hello")) {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	for _, l := range []string{"one", "two", "three"} {
		if err := st.Append(ctx, "c/custody.jsonl", []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	// A second store (a resumed run) continues the same log.
	st2, _ := FromClients(clients, "s3://evid")
	if err := st2.Append(ctx, "c/custody.jsonl", []byte("four")); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Open(ctx, "c/custody.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if want := "one\ntwo\nthree\nfour\n"; string(got) != want {
		t.Fatalf("custody = %q, want %q", got, want)
	}
	for _, key := range []string{"../x", "/abs", `a\b`, "c//d"} {
		if _, err := st.Put(ctx, key, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q): got no error, want a refusal", key)
		}
	}
}

func TestObjectLockRetainUntil(t *testing.T) {
	testenv.StartMoto(t)
	ctx := testenv.Context(t)
	cfg, _ := awsapi.LoadConfig(ctx, awsapi.Options{MaxAttempts: 1})
	clients := awsapi.NewClients(cfg)
	c := clients.S3("")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("locked"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("locked"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(30)}}}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := FromClients(clients, "s3://locked/p")
	info, err := st.Put(ctx, "c/a.txt", strings.NewReader("locked evidence"))
	if err != nil {
		t.Fatal(err)
	}
	if info.RetainUntil == nil || info.RetainUntil.Before(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("RetainUntil = %v, want about 30 days ahead", info.RetainUntil)
	}
}

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, uri, bucket, prefix, err string }{
		{"bucket", "s3://b", "b", "", ""},
		{"prefix", "s3://b/p/q/", "b", "p/q", ""},
		{"not s3", "file:///x", "", "", "is not an S3 URI"},
		{"no bucket", "s3:///p", "", "", "names no bucket"},
		{"upper-case scheme", "S3://b", "", "", `the scheme "S3" must be lower case`},
		{"one slash", "s3:/b", "", "", "want s3://BUCKET"},
		{"hostile prefix", "s3://b/../x", "", "", `".." segment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, p, err := ParseURI(tt.uri)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURI(%q) error = %v, want %q", tt.uri, err, tt.err)
				}
				return
			}
			if err != nil || b != tt.bucket || p != tt.prefix {
				t.Fatalf("ParseURI(%q) = %q %q %v, want %q %q", tt.uri, b, p, err, tt.bucket, tt.prefix)
			}
		})
	}
}

// flaky wraps the real client and fails chosen calls, the way a throttled
// or broken S3 would.
type flaky struct {
	API
	partFailures  atomic.Int32 // UploadPart fails with SlowDown this many times
	completeFails bool         // CompleteMultipartUpload always fails, permanently
	aborts        atomic.Int32
}

func (f *flaky) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if f.partFailures.Add(-1) >= 0 {
		return nil, &smithy.GenericAPIError{Code: "SlowDown", Message: "reduce your request rate"}
	}
	return f.API.UploadPart(ctx, in, opts...)
}

func (f *flaky) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if f.completeFails {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}
	}
	return f.API.CompleteMultipartUpload(ctx, in, opts...)
}

func (f *flaky) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborts.Add(1)
	return f.API.AbortMultipartUpload(ctx, in, opts...)
}

func TestPutRetriesTransientErrors(t *testing.T) {
	_, c := startS3(t, "evid")
	ctx := testenv.Context(t)
	f := &flaky{API: c}
	f.partFailures.Store(2)
	st, _ := New(f, "s3://evid")
	st.PartSize, st.Concurrency = MinPartSize, 1
	data := randomBytes(11 << 20)
	info, err := st.Put(ctx, "c/big.bin", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put through two SlowDowns: %v", err)
	}
	if info.SHA256 != hexSHA(data) {
		t.Fatalf("sha256 %s, want %s", info.SHA256, hexSHA(data))
	}
	f.partFailures.Store(1000)
	_, err = st.Put(ctx, "c/never.bin", bytes.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("Put through endless SlowDowns: got %v, want the SlowDown error after %d attempts", err, DefaultAttempts)
	}
	if _, err := st.Stat(ctx, "c/never.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after a failed Put, Stat = %v, want nothing under the key", err)
	}
}

func TestConcurrentAppendsToTwoLogs(t *testing.T) {
	clients, _ := startS3(t, "evid")
	ctx := testenv.Context(t)
	st, _ := FromClients(clients, "s3://evid/p")
	const n = 10
	errs := make(chan error, 2*n)
	for _, key := range []string{"a/custody.jsonl", "b/custody.jsonl"} {
		for i := range n {
			go func() { errs <- st.Append(ctx, key, []byte(fmt.Sprintf("line %02d", i))) }()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"a/custody.jsonl", "b/custody.jsonl"} {
		rc, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		slices.Sort(lines)
		if len(lines) != n || lines[0] != "line 00" || lines[n-1] != fmt.Sprintf("line %02d", n-1) || len(slices.Compact(lines)) != n {
			t.Fatalf("%s holds %q, want the %d lines once each", key, lines, n)
		}
	}
}
