package s3store

import (
	"context"
	"encoding/json"
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

// TestS3CaseHasOneWriter: a second run on a case is refused at open while
// the first holds its lease, allowed once it closed. A run that went
// quiet past the lease's time loses the case to the next one, and its
// next line is then refused (the conditional segment write), never
// written over the new writer's: every line S3 confirmed stays.
func TestS3CaseHasOneWriter(t *testing.T) {
	clients, _ := startS3(t, "evid")
	ctx := testenv.Context(t)
	store := func(at *time.Time) *Store {
		st, _ := FromClients(clients, "s3://evid/ir")
		st.Clock = func() time.Time { return *at }
		return st
	}
	t1, t2 := time.Now(), time.Now()
	first, err := evidence.OpenCase(ctx, store(&t1), s3Header("cr-two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = evidence.OpenCase(ctx, store(&t2), s3Header("cr-two"), nil)
	if !errors.Is(err, evidence.ErrCaseBusy) || !strings.Contains(err.Error(), `case "cr-two" is being written by another run (pid `) {
		t.Fatalf("second OpenCase while the first holds the lease: got %v, want ErrCaseBusy", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	first, err = evidence.OpenCase(ctx, store(&t1), s3Header("cr-two"), nil)
	if err != nil {
		t.Fatalf("OpenCase after the first closed: %v", err)
	}
	t2 = t2.Add(DefaultLeaseTTL + time.Second) // the first run has gone quiet
	second, err := evidence.OpenCase(ctx, store(&t2), s3Header("cr-two"), nil)
	if err != nil {
		t.Fatalf("OpenCase over a lapsed lease: %v", err)
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
	rep, err := evidence.Verify(ctx, store(&t2), "cr-two", nil)
	if err != nil || !rep.OK() || rep.CustodyEntries != 5 {
		t.Fatalf("Verify: %v, problems %q, %d lines, want 5 (opened, resumed twice, step b, finished)", err, rep.Problems, rep.CustodyEntries)
	}
}

// TestS3LeaseRenewedByWritesAndLostToATakeOver: custody writes keep the
// lease alive; a run whose lease another took is refused at its next line.
func TestS3LeaseRenewedByWritesAndLostToATakeOver(t *testing.T) {
	clients, c := startS3(t, "evid")
	ctx := testenv.Context(t)
	now := time.Now()
	st, _ := FromClients(clients, "s3://evid")
	st.Clock = func() time.Time { return now }
	cs, err := evidence.OpenCase(ctx, st, s3Header("cr-l"), nil)
	if err != nil {
		t.Fatal(err)
	}
	expires := func() time.Time {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("evid"), Key: aws.String("cr-l/.lock")})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		var l lease
		if err := json.NewDecoder(out.Body).Decode(&l); err != nil {
			t.Fatal(err)
		}
		return l.Expires
	}
	before := expires()
	now = now.Add(DefaultLeaseTTL * 3 / 4)
	if err := cs.Event(ctx, "step.started", "a", nil); err != nil {
		t.Fatal(err)
	}
	if after := expires(); !after.After(before) {
		t.Fatalf("lease expires %v after a write, was %v: not renewed", after, before)
	}
	// Someone else takes the lease (as over a lapsed one).
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evid"), Key: aws.String("cr-l/.lock"),
		Body: strings.NewReader(`{"owner":"other"}`)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultLeaseTTL * 3 / 4)
	err = cs.Event(ctx, "step.succeeded", "a", nil)
	if !errors.Is(err, evidence.ErrCaseBusy) || !strings.Contains(err.Error(), "lapsed and another run took it") {
		t.Fatalf("write after losing the lease: got %v, want ErrCaseBusy", err)
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
