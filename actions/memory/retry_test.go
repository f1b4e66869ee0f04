package memory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestRetryStartsANewArtifact: a failed attempt leaves its .partial file;
// the next attempt writes a file of its own, never appending to it.
func TestRetryStartsANewArtifact(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "mem.img")
	want := randomFile(t, src, 2<<20, 50)
	dir := t.TempDir()
	action := New(Options{})
	run := func(attempt int, extra map[string]any) (engine.Outputs, error) {
		p := tg.params(map[string]any{"method": "raw", "source": src, "sinks": []any{"file://" + dir}})
		for k, v := range extra {
			p[k] = v
		}
		return action.Run(testenv.Context(t), &engine.StepInput{StepID: "memory", Attempt: attempt, Params: p, Evidence: newEvidence(t.TempDir())})
	}
	if _, err := run(1, map[string]any{"expected_size": 3 << 20}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("attempt 1: error = %v, want %v", err, ErrTruncated)
	}
	out, err := run(2, nil)
	if err != nil {
		t.Fatalf("attempt 2: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var partial, whole []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			partial = append(partial, e.Name())
		} else {
			whole = append(whole, e.Name())
		}
	}
	if len(partial) != 1 || len(whole) != 1 || !strings.Contains(partial[0], "-a1.") || !strings.Contains(whole[0], "-a2.") {
		t.Fatalf("sink dir = %v + %v, want attempt 1's partial and attempt 2's image", partial, whole)
	}
	if got := fileSHA256(t, filepath.Join(dir, whole[0])); got != want || out["sha256"] != want {
		t.Fatalf("attempt 2 image hashes to %s (output %v), want %s", got, out["sha256"], want)
	}
}

// TestStalledCaptureToS3IsTaggedIncomplete: a stall keeps what reached S3,
// tagged firebreak-complete=false and recorded Complete=false.
func TestStalledCaptureToS3IsTaggedIncomplete(t *testing.T) {
	client := motoS3(t)
	img := limeImage(51, testRanges...)
	lt := startLimeTarget(t, img, 3<<20)
	out, ev, err := runCapture(t, New(Options{S3: client}), lt.params(lt.limeParams(map[string]any{
		"sinks": []any{"s3://evidence/stall"}, "stall_timeout": time.Second})))
	if !errors.Is(err, ErrStalled) || out["complete"] != false {
		t.Fatalf("error = %v, complete = %v; want %v and false", err, out["complete"], ErrStalled)
	}
	if len(ev.Records()) != 1 || ev.Records()[0].Complete || ev.Records()[0].Size != 3<<20 {
		t.Fatalf("records = %+v, want one incomplete of 3 MiB", ev.Records())
	}
	uri := ev.Records()[0].URI
	if got, n := s3ObjectSHA256(t, client, uri); got != ev.Records()[0].SHA256 || n != 3<<20 {
		t.Fatalf("partial object hashes to %s (%d bytes), record says %s", got, n, ev.Records()[0].SHA256)
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	tags, err := client.GetObjectTagging(testenv.Context(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "firebreak-complete" || aws.ToString(tags.TagSet[0].Value) != "false" {
		t.Fatalf("tags = %+v, want firebreak-complete=false", tags.TagSet)
	}
}
