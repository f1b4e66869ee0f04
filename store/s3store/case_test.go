package s3store

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func s3Header(caseID string) evidence.Header {
	return evidence.Header{CaseID: caseID, RunID: "run-1", Playbook: engine.PlaybookRef{Name: "host-compromise"},
		Tool: evidence.ToolRef{Name: "firebreak"}, Operator: evidence.Operator{ARN: "arn:aws:iam::123456789012:user/r"}}
}

func signer(t *testing.T) *evidence.Ed25519Signer {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k.pem")
	if _, err := evidence.GenerateEd25519Key(p); err != nil {
		t.Fatal(err)
	}
	s, err := evidence.LoadEd25519Signer(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCaseOnS3VerifiesAndCatchesTampering(t *testing.T) {
	clients, c := startS3(t, "evidence")
	ctx := testenv.Context(t)
	st, _ := FromClients(clients, "s3://evidence/ir")
	st.PartSize = MinPartSize
	sg := signer(t)
	cs, err := evidence.OpenCase(ctx, st, s3Header("cr-s3"), sg)
	if err != nil {
		t.Fatal(err)
	}
	mem := randomBytes(6 << 20) // two parts
	a, err := cs.Evidence("memory").Put(ctx, engine.ArtifactMeta{Name: "mem.lime", Kind: "memory-image"}, bytes.NewReader(mem))
	if err != nil {
		t.Fatal(err)
	}
	if a.VersionID == "" || a.SHA256 != hexSHA(mem) || a.URI != "s3://evidence/ir/cr-s3/artifacts/memory/mem.lime" {
		t.Fatalf("artifact = %+v", a)
	}
	if _, err := cs.Evidence("gather").Put(ctx, engine.ArtifactMeta{Name: "instance.json"}, strings.NewReader(`{"id":"i-1"}`)); err != nil {
		t.Fatal(err)
	}
	cs.SetStep(engine.StepRecord{ID: "memory", Action: "capture-memory", Status: engine.StatusSucceeded, Attempts: 1})
	m, err := cs.Finish(ctx, "interrupted", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, st, "cr-s3", sg.Public())
	if err != nil || !rep.OK() || len(rep.Checked) != 2 {
		t.Fatalf("Verify of a clean S3 case: %v %+v", err, rep)
	}

	// Resume on a fresh store (a new process) continues the chain in S3.
	st2, _ := FromClients(clients, "s3://evidence/ir")
	cs2, err := evidence.OpenCase(ctx, st2, s3Header("cr-s3"), sg)
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := cs2.Finish(ctx, "succeeded", time.Now()); err != nil || m2.Custody.Entries != m.Custody.Entries+2 {
		t.Fatalf("resumed Finish: %v, entries %d, want %d", err, m2.Custody.Entries, m.Custody.Entries+2)
	}

	// Someone with write access replaces the instance record.
	forged, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evidence"), Key: aws.String("ir/cr-s3/artifacts/gather/instance.json"),
		Body: strings.NewReader(`{"id":"i-2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	orig := m.Artifacts[1]
	rep, err = evidence.Verify(ctx, st, "cr-s3", sg.Public())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"artifact artifacts/gather/instance.json: sha256 mismatch: manifest " + hexSHA([]byte(`{"id":"i-1"}`)) +
		", file " + hexSHA([]byte(`{"id":"i-2"}`)),
		"artifact artifacts/gather/instance.json: version " + aws.ToString(forged.VersionId) + " is current, manifest recorded " +
			orig.VersionID + ": the object was overwritten; the recorded version may still be retrievable"}
	if !slices.Equal(rep.Problems, want) {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
}

// TestFailedS3PutIsNotInTheManifest: when S3 will not complete an upload,
// the artifact is neither in S3 nor in the manifest, and the case still
// verifies.
func TestFailedS3PutIsNotInTheManifest(t *testing.T) {
	_, c := startS3(t, "evidence")
	ctx := context.Background()
	f := &flaky{API: c, completeFails: true}
	st, _ := New(f, "s3://evidence")
	st.PartSize = MinPartSize
	cs, err := evidence.OpenCase(ctx, st, s3Header("cr-fail"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.Evidence("memory").Put(ctx, engine.ArtifactMeta{Name: "mem.lime"}, bytes.NewReader(randomBytes(7<<20)))
	if err == nil || !strings.Contains(err.Error(), `storing artifact "mem.lime" of step "memory"`) {
		t.Fatalf("Put with a failing CompleteMultipartUpload: got %v", err)
	}
	if f.aborts.Load() != 1 {
		t.Fatalf("aborts = %d, want the upload aborted once", f.aborts.Load())
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("evidence")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left behind", len(ups.Uploads))
	}
	m, err := cs.Finish(ctx, "failed", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 0 {
		t.Fatalf("manifest lists %+v, want no artifact", m.Artifacts)
	}
	rep, err := evidence.Verify(ctx, st, "cr-fail", nil)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
}
