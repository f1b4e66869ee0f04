package lambda

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// wantSame fails unless got is before: concurrency, URL auth and address,
// every policy statement's Sid and principal.
func wantSame(t *testing.T, got, before fnLive) {
	t.Helper()
	if !sameInt(got.concurrency, before.concurrency) || got.auth != before.auth || got.url != before.url || !slices.Equal(got.sids, before.sids) {
		t.Errorf("after release: concurrency %v, URL %s %s, policy %q\nwant (before containment): concurrency %v, URL %s %s, policy %q",
			deref(got.concurrency), got.auth, got.url, got.sids, deref(before.concurrency), before.auth, before.url, before.sids)
	}
}

func deref(n *int32) any {
	if n == nil {
		return nil
	}
	return *n
}

// TestReleaseFunctionFromPreviousState: release-function, given
// contain-function's previous_state, puts back the function exactly as it
// was: concurrency 5, the URL public at the same address, the public and
// cross-account grants. A second release changes nothing.
func TestReleaseFunctionFromPreviousState(t *testing.T) {
	w := newFnWorld(t)
	before := w.read(t)
	out, _, err := w.e.Run(t, w.reg, "contain-function", engine.Params{"function": "invoice-render"})
	if err != nil {
		t.Fatalf("contain-function: %v", err)
	}
	prev := out["previous_state"].(map[string]any)
	rel, _, err := w.e.Run(t, w.reg, "release-function", engine.Params{"function": "invoice-render", "previous_state": prev})
	if err != nil {
		t.Fatalf("release-function: %v", err)
	}
	if nr := rel["not_restored"].([]any); len(nr) != 0 {
		t.Errorf("not_restored: got %v, want nothing", nr)
	}
	after := w.read(t)
	wantSame(t, after, before)
	if after.tags[prevTagConcurrency] != "" || after.tags["firebreak:status"] != "released" || after.tags["app"] != "billing" {
		t.Errorf("tags: got %v, want the prev tags gone, status released, the function's own kept", after.tags)
	}
	if _, _, err := w.e.Run(t, w.reg, "release-function", engine.Params{"function": "invoice-render", "previous_state": prev}); err != nil {
		t.Fatalf("second release-function: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second release: mutating calls %v, want none", m)
	}
	wantSame(t, w.read(t), before)
}

// TestReleaseFunctionFromTags: without previous_state, release-function
// puts back the concurrency and the public URL with the permission it
// needs, and names the cross-account grant it cannot write back.
func TestReleaseFunctionFromTags(t *testing.T) {
	w := newFnWorld(t)
	before := w.read(t)
	if _, _, err := w.e.Run(t, w.reg, "contain-function", engine.Params{"function": "invoice-render"}); err != nil {
		t.Fatalf("contain-function: %v", err)
	}
	rel, _, err := w.e.Run(t, w.reg, "release-function", engine.Params{"function": "invoice-render"})
	if err != nil {
		t.Fatalf("release-function: %v", err)
	}
	got := w.read(t)
	if !sameInt(got.concurrency, before.concurrency) || got.auth != before.auth || got.url != before.url {
		t.Errorf("concurrency %v, URL %s %s; want %v, %s %s", deref(got.concurrency), got.auth, got.url, deref(before.concurrency), before.auth, before.url)
	}
	if !slices.Equal(got.sids, []string{"FunctionURLAllowPublicAccess *", "uploads s3.amazonaws.com"}) {
		t.Errorf("policy: got %q, want the URL's public grant back beside the S3 one", got.sids)
	}
	nr := fmt.Sprint(rel["not_restored"])
	if !strings.Contains(nr, "partner") || !strings.Contains(nr, "previous_state") {
		t.Errorf("not_restored: got %s, want the cross-account grant named", nr)
	}
	again, _, err := w.e.Run(t, w.reg, "release-function", engine.Params{"function": "invoice-render"})
	if err != nil || !strings.Contains(fmt.Sprint(again["substeps"]), "released already") || len(w.e.Mutations()) != 0 {
		t.Errorf("second release: got %v, %v, mutations %v; want released already and no change", again, err, w.e.Mutations())
	}
}

// TestFunctionPlanChangesNothing: plan --check of both actions reads the
// function and changes nothing.
func TestFunctionPlanChangesNothing(t *testing.T) {
	w := newFnWorld(t)
	for _, name := range []string{"contain-function", "release-function"} {
		d := w.e.Plan(t, w.reg, name, engine.Params{"function": "invoice-render"})
		if m := w.e.Mutations(); len(m) != 0 || w.e.Reads() == 0 {
			t.Errorf("%s plan: mutating calls %v; want none", name, m)
		}
		t.Logf("%s: notes %q problems %q", name, d.Notes, d.Problems)
		if name == "contain-function" && !slices.ContainsFunc(d.Notes, func(n string) bool { return strings.Contains(n, "partner") }) {
			t.Errorf("contain-function plan: notes %q, want the grant to another account named", d.Notes)
		}
	}
}

// TestCodeFetcher: the deployed package is downloaded from the location
// given, hashed as it is stored, and checked against Lambda's CodeSha256;
// a package that differs is kept and the step told; one past the bound is
// refused; nothing is fetched outside AWS or the configured endpoint.
func TestCodeFetcher(t *testing.T) {
	zipBytes := []byte("PK\x03\x04 a deployment package")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(zipBytes) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	f := &codeFetcher{client: srv.Client(), endpoint: u}
	sum := sha256.Sum256(zipBytes)
	good := base64.StdEncoding.EncodeToString(sum[:])
	tests := []struct {
		name, loc, sha string
		max            int64
		want           string // error text; "" none
		stored         bool
	}{
		{"matches", srv.URL + "/snapshots/fn?X-Amz-Signature=s", good, 1 << 20, "", true},
		{"differs", srv.URL + "/snapshots/fn", base64.StdEncoding.EncodeToString(make([]byte, 32)), 1 << 20, "is not the code Lambda says is deployed", true},
		{"too large", srv.URL + "/snapshots/fn", good, 5, "larger than max_code_bytes", false},
		{"elsewhere", "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/fn", good, 1 << 20, "not the configured endpoint", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := enginetest.NewEvidence()
			art, err := f.store(t.Context(), &engine.StepInput{Evidence: ev, Attempt: 1}, tt.loc, tt.sha, tt.max, nil)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			b, ok := ev.Object("function-code.zip")
			if ok != tt.stored || ok && (string(b) != string(zipBytes) || art.SHA256 != hex.EncodeToString(sum[:])) {
				t.Errorf("stored %v (%q, sha %s), want stored %v", ok, b, art.SHA256, tt.stored)
			}
			if tt.name == "elsewhere" && !errors.Is(err, errCodeElsewhere) {
				t.Errorf("got %v, want errCodeElsewhere (a gap, not a failure)", err)
			}
		})
	}
	aws := &codeFetcher{}
	for loc, want := range map[string]string{
		"https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/fn?sig": "",
		"http://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/fn":      "not an https address of AWS",
		"https://example.com/fn":                    "not an https address of AWS",
		"https://evil.amazonaws.com.example.net/fn": "not an https address of AWS",
	} {
		if got := aws.allowed(loc); want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("allowed(%q) without an endpoint: got %q, want %q", loc, got, want)
		}
	}
}
