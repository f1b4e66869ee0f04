package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
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
	if len(ev.records) != 2 || !ev.records[0].Complete || !ev.records[1].Complete {
		t.Fatalf("records = %+v, want two complete", ev.records)
	}
	how := ev.records[0].Meta["s3_verified_by"]
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
	if len(ev.records) != 1 || ev.records[0].Complete || ev.records[0].Size != 0 {
		t.Fatalf("records = %+v, want one incomplete empty object", ev.records)
	}
	if _, n := s3ObjectSHA256(t, client, ev.records[0].URI); n != 0 {
		t.Fatalf("object holds %d bytes, want 0", n)
	}
}
