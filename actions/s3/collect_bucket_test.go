package s3

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// TestCollectBucket: collect-bucket keeps the configuration and names
// every version and delete marker, so an object the attacker overwrote and
// then deleted can still be named; max_versions bounds the listing and the
// gap is recorded. It changes nothing.
func TestCollectBucket(t *testing.T) {
	w := newBucketWorld(t)
	ctx := t.Context()
	must(t, func() error {
		return putVersioning(ctx, w.s3, awsapi.PlanEvidence, "victim", types.BucketVersioningStatusEnabled)
	})
	for _, body := range []string{"ledger v1", "ledger v2 (overwritten by the attacker)"} {
		must(t, func() error {
			_, err := w.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("victim"), Key: aws.String("ledger.csv"), Body: strings.NewReader(body)})
			return err
		})
	}
	must(t, func() error {
		_, err := w.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("victim"), Key: aws.String("ledger.csv")})
		return err
	})
	out, ev, err := w.e.Run(t, w.reg, "collect-bucket", engine.Params{"bucket": "victim", "max_versions": 100})
	if err != nil {
		t.Fatalf("collect-bucket: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("mutating calls %v, want none", m)
	}
	if out["versions"] != 2 || out["delete_markers"] != 1 || out["truncated"] != false {
		t.Errorf("outputs: got %v, want 2 versions, 1 delete marker", out)
	}
	lines := jsonLines(t, ev, "object-versions.jsonl")
	var sizes []int64
	markers := 0
	for _, l := range lines {
		if l.Key != "ledger.csv" || l.VersionID == "" {
			t.Errorf("line %+v: want the key and a version id", l)
		}
		if l.DeleteMarker {
			markers++
			continue
		}
		sizes = append(sizes, *l.Size)
		if l.ETag == "" || l.LastModified == nil {
			t.Errorf("version %+v: want its ETag and time", l)
		}
	}
	if markers != 1 || len(sizes) != 2 {
		t.Errorf("got %d versions (sizes %v) and %d markers, want 2 and 1", len(sizes), sizes, markers)
	}
	body, _ := ev.Object("bucket-configuration.json")
	var cfg bucketConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Absent["encryption"] == "" && cfg.Values["encryption"] == nil || !strings.Contains(string(body), "PartnerRead") || len(cfg.Values) < 16 {
		t.Errorf("configuration: got %s", body)
	}

	out, ev, err = w.e.Run(t, w.reg, "collect-bucket", engine.Params{"bucket": "victim", "max_versions": 2})
	if err != nil {
		t.Fatalf("collect-bucket bounded: %v", err)
	}
	if out["truncated"] != true || len(jsonLines(t, ev, "object-versions.jsonl")) != 2 {
		t.Errorf("bounded: got %v, want 2 lines and truncated", out)
	}
	gaps := 0
	for _, e := range ev.Events() {
		if e.Name == awsapi.EventGap && e.Detail["call"] == "s3:ListObjectVersions" {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("gap events for the bounded listing: got %d, want 1", gaps)
	}
}

func jsonLines(t *testing.T, ev interface {
	Object(string) ([]byte, bool)
}, name string) []versionLine {
	t.Helper()
	b, ok := ev.Object(name)
	if !ok {
		t.Fatalf("no artifact %s", name)
	}
	var out []versionLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l versionLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}
