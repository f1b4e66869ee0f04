package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// maxPut records the largest PutObject body the store sends.
type maxPut struct {
	API
	max atomic.Int64
}

func (m *maxPut) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if n := aws.ToInt64(in.ContentLength); n > m.max.Load() {
		m.max.Store(n)
	}
	return m.API.PutObject(ctx, in, opts...)
}

// TestAppendRollsSegmentsAndOpenJoinsThem: each append uploads at most a
// segment, whatever the log's length; Open gives the whole log in order,
// after a log written before segments, and a new store continues it.
func TestAppendRollsSegmentsAndOpenJoinsThem(t *testing.T) {
	_, c := startS3(t, "evid")
	ctx := testenv.Context(t)
	// A log from before segments: one object, kept and read first.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evid"), Key: aws.String("cr/custody.jsonl"),
		Body: strings.NewReader("old 1\nold 2\n")}); err != nil {
		t.Fatal(err)
	}
	api := &maxPut{API: c}
	st, _ := New(api, "s3://evid")
	st.SegmentSize = 64
	want := "old 1\nold 2\n"
	for i := range 12 {
		line := fmt.Sprintf("line %02d %s", i, strings.Repeat("x", 12)) // 20 bytes + newline
		if err := st.Append(ctx, "cr/custody.jsonl", []byte(line)); err != nil {
			t.Fatal(err)
		}
		want += line + "\n"
	}
	if api.max.Load() > st.SegmentSize {
		t.Fatalf("largest upload %d bytes, want at most a segment (%d)", api.max.Load(), st.SegmentSize)
	}
	for _, key := range []string{"cr/custody.d/000001.jsonl", "cr/custody.d/000004.jsonl"} {
		if _, err := st.Stat(ctx, key); err != nil {
			t.Fatalf("segment %s: %v", key, err)
		}
	}
	st2, _ := New(c, "s3://evid") // a resumed run
	st2.SegmentSize = 64
	if err := st2.Append(ctx, "cr/custody.jsonl", []byte("resumed")); err != nil {
		t.Fatal(err)
	}
	want += "resumed\n"
	rc, err := st.Open(ctx, "cr/custody.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != want {
		t.Fatalf("log:\n got  %q\n want %q", got, want)
	}
}

// TestSecondWriterOnS3NeverLosesLines: two runs on one case, each with
// its own store (two processes). Whichever writes second from a stale
// view is refused with ErrCaseBusy instead of overwriting; every line S3
// confirmed stays and the case verifies.
func TestSecondWriterOnS3NeverLosesLines(t *testing.T) {
	clients, _ := startS3(t, "evid")
	ctx := testenv.Context(t)
	st1, _ := FromClients(clients, "s3://evid/ir")
	st2, _ := FromClients(clients, "s3://evid/ir")
	first, err := evidence.OpenCase(ctx, st1, s3Header("cr-two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := evidence.OpenCase(ctx, st2, s3Header("cr-two"), nil)
	if err != nil {
		t.Fatal(err) // S3 has no lock to refuse it here: its writes are what is guarded
	}
	if err := second.Event(ctx, "step.started", "b", nil); err != nil {
		t.Fatal(err)
	}
	err = first.Event(ctx, "step.started", "a", nil)
	if !errors.Is(err, evidence.ErrCaseBusy) || !strings.Contains(err.Error(), "another run added to this log since this one read it") {
		t.Fatalf("stale writer's append: got %v, want ErrCaseBusy", err)
	}
	if _, err := second.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, st1, "cr-two", nil)
	if err != nil || !rep.OK() || rep.CustodyEntries != 4 {
		t.Fatalf("Verify: %v, problems %q, %d lines (want case.opened, case.resumed, step.started, case.finished)", err, rep.Problems, rep.CustodyEntries)
	}
}

// wrongLength answers HeadObject with a size other than what was stored.
type wrongLength struct{ API }

func (w wrongLength) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	out, err := w.API.HeadObject(ctx, in, opts...)
	if err == nil {
		out.ContentLength = aws.Int64(aws.ToInt64(out.ContentLength) - 1)
	}
	return out, err
}

func TestPutFailsWhenS3HoldsAnotherSize(t *testing.T) {
	_, c := startS3(t, "evid")
	ctx := testenv.Context(t)
	st, _ := New(wrongLength{c}, "s3://evid")
	_, err := st.Put(ctx, "cr/artifacts/s/a.txt", strings.NewReader("hello"))
	if want := "storing s3://evid/cr/artifacts/s/a.txt: S3 holds 4 bytes, 5 were sent: store it again"; err == nil || err.Error() != want {
		t.Fatalf("Put: got %v, want %q", err, want)
	}
}

// TestVerifyRehashesAnArtifactInAnotherBucket: a memory image whose sink
// was another bucket is read there through the store's client.
func TestVerifyRehashesAnArtifactInAnotherBucket(t *testing.T) {
	_, c := startS3(t, "evid")
	ctx := testenv.Context(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sink")}); err != nil {
		t.Fatal(err)
	}
	image := randomBytes(1 << 20)
	put := func(b []byte) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sink"), Key: aws.String("mem/h1.lime"),
			Body: strings.NewReader(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	put(image)
	st, _ := New(c, "s3://evid")
	cs, err := evidence.OpenCase(ctx, st, s3Header("cr-sink"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Evidence("memory").Record(ctx, engineArtifact("s3://sink/mem/h1.lime", image)); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatal(err)
	}
	if rep, err := evidence.Verify(ctx, st, "cr-sink", nil); err != nil || !rep.OK() || len(rep.Checked) != 1 {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
	image[0] ^= 1
	put(image)
	rep, err := evidence.Verify(ctx, st, "cr-sink", nil)
	if err != nil || len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], "artifact memory/h1.lime: sha256 mismatch") {
		t.Fatalf("Verify of a changed image: %v %q", err, rep.Problems)
	}
}

func engineArtifact(uri string, data []byte) engine.Artifact {
	return engine.Artifact{ID: "memory/h1.lime", Kind: "memory-image", URI: uri, SHA256: hexSHA(data), Size: int64(len(data)), Complete: true}
}
