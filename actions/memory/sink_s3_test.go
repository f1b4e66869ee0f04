package memory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func motoS3(t testing.TB) *s3.Client {
	t.Helper()
	m := testenv.StartMoto(t)
	client := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(testenv.Context(t), &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return client
}

func s3ObjectSHA256(t testing.TB, client *s3.Client, uri string) (string, int64) {
	t.Helper()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	obj, err := client.GetObject(testenv.Context(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", uri, err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func TestRawCaptureToS3AndFile(t *testing.T) {
	client := motoS3(t)
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "memory.img")
	const size = 256 << 20
	want := randomFile(t, src, size, 5)
	dir := t.TempDir()
	out, ev, err := runCapture(t, New(Options{S3: client}), tg.params(map[string]any{
		"method": "raw", "source": src, "sinks": []any{"s3://evidence/cases/c1", "file://" + dir}}))
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if out["sha256"] != want || out["complete"] != true {
		t.Fatalf("outputs sha256=%v complete=%v, want %s true", out["sha256"], out["complete"], want)
	}
	u := uris(t, out)
	if len(u) != 2 || !strings.HasPrefix(u[0], "s3://evidence/cases/c1/memory-") || !strings.HasPrefix(u[1], "file://") {
		t.Fatalf("uris = %v, want the S3 object then the file", u)
	}
	if got, n := s3ObjectSHA256(t, client, u[0]); got != want || n != size {
		t.Fatalf("S3 object hashes to %s (%d bytes), want %s (%d)", got, n, want, size)
	}
	if got := fileSHA256(t, pathFromFileURI(u[1])); got != want {
		t.Fatalf("file copy hashes to %s, want %s", got, want)
	}
	if len(ev.Records()) != 2 || !ev.Records()[0].Complete || !ev.Records()[1].Complete {
		t.Fatalf("records = %+v, want two complete", ev.Records())
	}
	how := ev.Records()[0].Meta["s3_verified_by"]
	if how != "checksum" && how != "reread" {
		t.Fatalf("s3_verified_by = %v, want checksum or reread", how)
	}
	t.Logf("S3 copy verified by %v", how)
}

// TestEmptyFailedCaptureToS3: a capture that fails before its first byte
// still ends its S3 upload (an empty object tagged incomplete), never hangs.
func TestEmptyFailedCaptureToS3(t *testing.T) {
	client := motoS3(t)
	tg := startTarget(t)
	out, ev, err := runCapture(t, New(Options{S3: client}), tg.params(map[string]any{
		"method": "raw", "source": "/dev/null", "expected_size": 4096, "sinks": []any{"s3://evidence/empty"}}))
	if !errors.Is(err, ErrTruncated) || out["complete"] != false {
		t.Fatalf("error = %v, complete = %v; want %v and false", err, out["complete"], ErrTruncated)
	}
	if len(ev.Records()) != 1 || ev.Records()[0].Complete || ev.Records()[0].Size != 0 {
		t.Fatalf("records = %+v, want one incomplete empty object", ev.Records())
	}
	if _, n := s3ObjectSHA256(t, client, ev.Records()[0].URI); n != 0 {
		t.Fatalf("object holds %d bytes, want 0", n)
	}
	if got := s3Tag(t, client, ev.Records()[0].URI); got != "false" {
		t.Fatalf("partial object tagged %s=%q, want false", tagComplete, got)
	}
}

func s3Tag(t *testing.T, client *s3.Client, uri string) string {
	t.Helper()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	out, err := client.GetObjectTagging(testenv.Context(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObjectTagging %s: %v", uri, err)
	}
	for _, tg := range out.TagSet {
		if aws.ToString(tg.Key) == tagComplete {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// noRetag is an S3 client whose PutObjectTagging fails.
type noRetag struct{ *s3.Client }

func (noRetag) PutObjectTagging(context.Context, *s3.PutObjectTaggingInput, ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	return nil, errors.New("tagging refused")
}

// TestS3ObjectIsIncompleteUntilRetagged: the object carries
// firebreak-complete=false from CreateMultipartUpload; a whole image is
// retagged true after verify, and a failed retag fails the capture,
// leaving the object marked false.
func TestS3ObjectIsIncompleteUntilRetagged(t *testing.T) {
	client := motoS3(t)
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "memory.img")
	randomFile(t, src, 1<<20, 8)
	tests := []struct {
		name    string
		api     S3API
		wantTag string
		wantErr string
	}{
		{name: "verified", api: client, wantTag: "true"},
		{name: "retag fails", api: noRetag{client}, wantTag: "false", wantErr: "tagging refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ev, err := runCapture(t, New(Options{S3: tc.api}), tg.params(map[string]any{
				"method": "raw", "source": src, "sinks": []any{"s3://evidence/" + tc.name}}))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if out["complete"] != (tc.wantErr == "") || len(ev.Records()) != 1 {
				t.Fatalf("complete = %v, records = %+v", out["complete"], ev.Records())
			}
			if got := s3Tag(t, client, ev.Records()[0].URI); got != tc.wantTag {
				t.Fatalf("object tagged %s=%q, want %q", tagComplete, got, tc.wantTag)
			}
		})
	}
}

// TestAbandonedS3SinkLeavesNothing: a sink opened before another failed
// aborts its upload instead of completing an empty object.
func TestAbandonedS3SinkLeavesNothing(t *testing.T) {
	client := motoS3(t)
	s, err := openS3Sink(testenv.Context(t), client, "evidence", "abandoned")
	if err != nil {
		t.Fatal(err)
	}
	s.abandon(testenv.Context(t))
	ups, err := client.ListMultipartUploads(testenv.Context(t), &s3.ListMultipartUploadsInput{Bucket: aws.String("evidence")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads = %+v, %v; want none left", ups, err)
	}
	if _, err := client.HeadObject(testenv.Context(t), &s3.HeadObjectInput{Bucket: aws.String("evidence"), Key: aws.String("abandoned")}); err == nil {
		t.Fatal("an object exists at the abandoned key")
	}
}

func TestPartSizeSchedule(t *testing.T) {
	tests := []struct {
		part int32
		want int
	}{{1, 8 << 20}, {1000, 8 << 20}, {1001, 16 << 20}, {2001, 32 << 20}, {9001, 4 << 30}, {10000, 4 << 30}}
	for _, tc := range tests {
		if got := partSizeAt(tc.part); got != tc.want {
			t.Errorf("partSizeAt(%d) = %d, want %d", tc.part, got, tc.want)
		}
	}
	var total int64
	for n := int32(1); n <= maxParts; n++ {
		total += int64(partSizeAt(n))
	}
	if total < 4<<40 {
		t.Fatalf("10,000 parts hold %d bytes, want at least 4 TiB", total)
	}
}

// TestS3InFlightIsBoundedInBytes: however many parts are queued, the
// budget held never passes inFlightBytes.
func TestS3InFlightIsBoundedInBytes(t *testing.T) {
	s := &s3Sink{}
	s.room = sync.NewCond(&s.mu)
	var held []int64
	for range inFlightBytes / firstPartSize {
		held = append(held, s.acquire(firstPartSize))
	}
	got := make(chan int64)
	go func() { got <- s.acquire(1 << 30) }() // a part larger than the budget waits for all
	s.giveBack(held[0])
	select {
	case n := <-got:
		t.Fatalf("acquired %d with %d still in flight", n, s.used)
	default:
	}
	for _, h := range held[1:] {
		s.giveBack(h)
	}
	if n := <-got; n != inFlightBytes {
		t.Fatalf("a 1 GiB part holds %d of the budget, want all %d", n, inFlightBytes)
	}
}
