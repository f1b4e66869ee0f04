package faulttest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

// TestEvidenceStoreFailingMidUpload runs host-compromise with its evidence
// in S3 while the evidence bucket answers with errors and drops: a flaky
// store is retried and the run succeeds; a store that refuses one step's
// artifacts fails that step. Either way the manifest, read straight from
// moto, lists no artifact that is not there.
func TestEvidenceStoreFailingMidUpload(t *testing.T) {
	// Past about a quarter of calls failing, the SDK's retry quota (500
	// tokens a client, 5 a retry, 10 after a broken connection) runs dry
	// and calls fail at once with "retry quota exceeded": these shares
	// stay under that, the refusing rule goes past it for one step.
	flaky := faultproxy.Rule{Service: "s3", Bucket: "evidence", ServerError: 0.15, Drop: 0.03, DropAfter: 0.03, Throttle: 0.05}
	tests := []struct {
		name     string
		rules    []faultproxy.Rule
		wantExit int
	}{
		{name: "flaky", rules: []faultproxy.Rule{flaky}, wantExit: 0},
		{name: "refuses-isolate-artifacts", wantExit: 1, rules: []faultproxy.Rule{flaky,
			{Service: "s3", Bucket: "evidence", KeyContains: "/artifacts/isolate/", ServerError: 1}}},
	}
	e := newEnv(t, 11)
	ctx := testenv.Context(t)
	direct := s3.NewFromConfig(e.direct, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := direct.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	store, err := s3store.New(direct, "s3://evidence/cases")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.world(t)
			c := newCLI(t, e.proxy.URL)
			caseID := "case-s3-" + tt.name
			e.proxy.Reset()
			e.proxy.SetRules(tt.rules...)
			code, out := c.run("run", "host-compromise", "-i", "instance_id="+w.InstanceID, "--evidence", "s3://evidence/cases", "--case", caseID)
			calls := e.proxy.Calls()
			e.proxy.SetRules()
			t.Logf("exit %d; %d calls: %s\n%s", code, len(calls), faultShares(calls), out)
			if code != tt.wantExit {
				t.Fatalf("run: exit %d, want %d", code, tt.wantExit)
			}
			s3faults := 0
			for _, cl := range calls {
				if cl.Service == "s3" && cl.Fault != faultproxy.None {
					s3faults++
				}
			}
			if s3faults == 0 {
				t.Fatalf("no S3 call was faulted: the test proves nothing")
			}
			rep := verify(t, store, caseID)
			t.Logf("verified %d artifacts (%d not rehashable)", len(rep.Checked), len(rep.NotRehashable))
			man := readManifest(t, store, caseID)
			for _, a := range man.Artifacts {
				if tt.wantExit != 0 && strings.Contains(a.URI, "/artifacts/isolate/") {
					t.Errorf("manifest lists %s, which the store refused", a.URI)
				}
			}
		})
	}
}

func readManifest(t *testing.T, store evidence.Store, caseID string) *evidence.Manifest {
	t.Helper()
	r, err := store.Open(testenv.Context(t), caseID+"/manifest.json")
	if err != nil {
		t.Fatalf("opening the manifest: %v", err)
	}
	defer r.Close()
	var m *evidence.Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatalf("reading the manifest: %v", err)
	}
	return m
}
