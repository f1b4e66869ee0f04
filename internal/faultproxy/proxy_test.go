package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend is an httptest server that answers 200 "ok" and counts hits.
func backend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, strings.Repeat("ok", 500))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func start(t *testing.T, target string, seed uint64, rules ...Rule) *Proxy {
	t.Helper()
	p, err := Start(target, seed, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

const ec2Auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=abc"

func auth(service string) string { return strings.Replace(ec2Auth, "/ec2/", "/"+service+"/", 1) }

// settled is every call so far, once each has ended: a client holds its
// answer a moment before the proxy notes how the call ended.
func settled(t *testing.T, p *Proxy) []Call {
	t.Helper()
	calls, err := p.Settled(t.Context())
	if err != nil {
		t.Fatalf("waiting for the calls to end: %v", err)
	}
	return calls
}

// send posts an EC2-style query call for action through the proxy.
func send(t *testing.T, p *Proxy, service, action string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(url.Values{"Action": {action}, "Version": {"2016-11-15"}}.Encode()))
	req.Header.Set("Authorization", auth(service))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, method, path, service, target, body, copySource string
		wantOp                                                string
		wantMutating                                          bool
		wantBucket                                            string
	}{
		{name: "ec2 describe in the form", method: "POST", path: "/", service: "ec2", body: "Action=DescribeInstances&Version=2016-11-15", wantOp: "DescribeInstances"},
		{name: "ec2 create", method: "POST", path: "/", service: "ec2", body: "Action=CreateSnapshots", wantOp: "CreateSnapshots", wantMutating: true},
		{name: "iam query", method: "POST", path: "/", service: "iam", body: "Action=PutRolePolicy", wantOp: "PutRolePolicy", wantMutating: true},
		{name: "sts get", method: "POST", path: "/", service: "sts", body: "Action=GetCallerIdentity", wantOp: "GetCallerIdentity"},
		{name: "json target", method: "POST", path: "/", service: "cloudtrail", target: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", wantOp: "LookupEvents"},
		{name: "s3 put object", method: "PUT", path: "/evidence/case/a.json", service: "s3", wantOp: "PutObject", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 copy", method: "PUT", path: "/evidence/case/b", service: "s3", copySource: "/evidence/case/a", wantOp: "CopyObject", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 head", method: "HEAD", path: "/evidence/case/a.json", service: "s3", wantOp: "HeadObject", wantBucket: "evidence"},
		{name: "s3 part", method: "PUT", path: "/evidence/k?uploadId=u&partNumber=2", service: "s3", wantOp: "UploadPart", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 create upload", method: "POST", path: "/evidence/k?uploads", service: "s3", wantOp: "CreateMultipartUpload", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 complete", method: "POST", path: "/evidence/k?uploadId=u", service: "s3", wantOp: "CompleteMultipartUpload", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 list", method: "GET", path: "/evidence?list-type=2", service: "s3", wantOp: "ListObjects", wantBucket: "evidence"},
		{name: "s3 versioning", method: "PUT", path: "/evidence?versioning", service: "s3", wantOp: "PutBucketVersioning", wantMutating: true, wantBucket: "evidence"},
		{name: "s3 ownership", method: "GET", path: "/victim?ownershipControls", service: "s3", wantOp: "GetBucketOwnershipControls", wantBucket: "victim"},
		{name: "s3 versions", method: "GET", path: "/victim?versions", service: "s3", wantOp: "ListObjectVersions", wantBucket: "victim"},
		{name: "s3 drop public access block", method: "DELETE", path: "/victim?publicAccessBlock", service: "s3", wantOp: "DeleteBucketPublicAccessBlock", wantMutating: true, wantBucket: "victim"},
		{name: "lambda get", method: "GET", path: "/2015-03-31/functions/fn", service: "lambda", wantOp: "GetFunction"},
		{name: "lambda url read", method: "GET", path: "/2021-10-31/functions/fn/url", service: "lambda", wantOp: "GetFunctionUrlConfig"},
		{name: "lambda url update", method: "PUT", path: "/2021-10-31/functions/fn/url", service: "lambda", wantOp: "UpdateFunctionUrlConfig", wantMutating: true},
		{name: "lambda remove permission", method: "DELETE", path: "/2015-03-31/functions/fn/policy/sid", service: "lambda", wantOp: "RemovePermission", wantMutating: true},
		{name: "lambda concurrency", method: "PUT", path: "/2017-10-31/functions/fn/concurrency", service: "lambda", wantOp: "PutFunctionConcurrency", wantMutating: true},
		{name: "lambda tags", method: "GET", path: "/2017-03-31/tags/arn:aws:lambda:us-east-1:1:function:fn", service: "lambda", wantOp: "ListTags"},
		{name: "lambda tag", method: "POST", path: "/2017-03-31/tags/arn:aws:lambda:us-east-1:1:function:fn", service: "lambda", wantOp: "TagResource", wantMutating: true},
		{name: "lambda unknown post", method: "POST", path: "/2099-01-01/layers/x", service: "lambda", wantOp: "POST /2099-01-01/layers/x", wantMutating: true},
		{name: "unsigned", method: "GET", path: "/moto-api/data.json", wantOp: "", wantMutating: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.service != "" {
				r.Header.Set("Authorization", auth(tt.service))
			}
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			if tt.copySource != "" {
				r.Header.Set("X-Amz-Copy-Source", tt.copySource)
			}
			c := classify(r, []byte(tt.body))
			if c.Service != tt.service || c.Operation != tt.wantOp || c.Mutating != tt.wantMutating || c.Bucket != tt.wantBucket {
				t.Errorf("got %s %s mutating=%v bucket %q, want %s %s mutating=%v bucket %q",
					c.Service, c.Operation, c.Mutating, c.Bucket, tt.service, tt.wantOp, tt.wantMutating, tt.wantBucket)
			}
		})
	}
}

// TestSharesFollowTheSeed: the drawn shares are near the asked ones, the
// same seed gives the same sequence, another seed another one.
func TestSharesFollowTheSeed(t *testing.T) {
	srv, hits := backend(t)
	faults := func(seed uint64) string {
		p := start(t, srv.URL, seed, Rule{Service: "ec2", Throttle: 0.3, ServerError: 0.1})
		var b strings.Builder
		for range 400 {
			if _, err := send(t, p, "ec2", "DescribeInstances"); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range settled(t, p) {
			b.WriteByte(map[Fault]byte{None: 'o', Throttle: 't', ServerError: 's'}[c.Fault])
		}
		return b.String()
	}
	hits.Store(0)
	a := faults(7)
	if got := hits.Load(); got != int64(strings.Count(a, "o")) {
		t.Errorf("backend hits: got %d, want one per answered call %d: a fault must not reach the backend", got, strings.Count(a, "o"))
	}
	throttled := float64(strings.Count(a, "t")) / 400
	if throttled < 0.22 || throttled > 0.38 {
		t.Errorf("throttled share with seed 7: got %.2f, want about 0.30", throttled)
	}
	if b := faults(7); b != a {
		t.Errorf("seed 7 twice: sequences differ\n%s\n%s", a, b)
	}
	if c := faults(8); c == a {
		t.Errorf("seeds 7 and 8 gave the same sequence")
	}
}

func TestRulesMatchServiceOperationAndKind(t *testing.T) {
	srv, _ := backend(t)
	reads := false
	p := start(t, srv.URL, 1,
		Rule{Service: "ec2", Operation: "CreateTags", Throttle: 1},
		Rule{Service: "iam", Mutating: &reads, ServerError: 1})
	tests := []struct {
		service, op string
		want        Fault
	}{
		{"ec2", "CreateTags", Throttle},
		{"ec2", "DescribeInstances", None},
		{"iam", "ListRoles", ServerError},
		{"iam", "PutRolePolicy", None},
		{"sts", "CreateTags", None},
	}
	for _, tt := range tests {
		if _, err := send(t, p, tt.service, tt.op); err != nil {
			t.Fatal(err)
		}
		calls := settled(t, p)
		if got := calls[len(calls)-1]; got.Fault != tt.want {
			t.Errorf("%s:%s: got fault %q, want %q", tt.service, tt.op, got.Fault, tt.want)
		}
	}
	if got := p.Mutations(); got != 2 {
		t.Errorf("mutating calls forwarded: got %d, want 2 (iam PutRolePolicy, sts CreateTags)", got)
	}
}

func TestDropsAndSlowReads(t *testing.T) {
	tests := []struct {
		name          string
		rule          Rule
		wantErr       bool
		wantForwarded int64
	}{
		{name: "drop before forwarding", rule: Rule{Drop: 1}, wantErr: true, wantForwarded: 0},
		{name: "drop after forwarding", rule: Rule{DropAfter: 1}, wantErr: true, wantForwarded: 1},
		{name: "slow read arrives whole", rule: Rule{SlowRead: 1, SlowReadTime: 100 * time.Millisecond}, wantForwarded: 1},
		{name: "latency", rule: Rule{Latency: 50 * time.Millisecond}, wantForwarded: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := backend(t)
			p := start(t, srv.URL, 3, tt.rule)
			req, _ := http.NewRequest(http.MethodGet, p.URL+"/x", nil)
			req.Header.Set("Authorization", auth("s3"))
			resp, err := http.DefaultClient.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && string(body) != strings.Repeat("ok", 500) {
				t.Errorf("body: got %d bytes, want the backend's 1000", len(body))
			}
			if got := hits.Load(); got != tt.wantForwarded {
				t.Errorf("backend hits: got %d, want %d", got, tt.wantForwarded)
			}
			c := settled(t, p)[0]
			if tt.rule.Latency > 0 && c.End.Sub(c.Start) < tt.rule.Latency {
				t.Errorf("call took %v, want at least the added %v", c.End.Sub(c.Start), tt.rule.Latency)
			}
		})
	}
}

// TestRateLimitThrottlesBeyondTheBucket: a burst over the rate is
// throttled past the bucket; calls spaced out under the rate never are.
func TestRateLimitThrottlesBeyondTheBucket(t *testing.T) {
	srv, _ := backend(t)
	// A token every 100 s: none comes back during the burst.
	p := start(t, srv.URL, 1, Rule{Service: "ec2", RatePerSecond: 0.01, Burst: 3})
	for range 10 {
		if _, err := send(t, p, "ec2", "DescribeInstances"); err != nil {
			t.Fatal(err)
		}
	}
	throttled := 0
	for _, c := range settled(t, p) {
		if c.Fault == Throttle {
			throttled++
		}
	}
	if throttled != 7 {
		t.Errorf("10 calls against a bucket of 3: %d throttled, want 7", throttled)
	}
	p.SetRules(Rule{Service: "ec2", RatePerSecond: 5, Burst: 1})
	p.Reset()
	for range 3 {
		time.Sleep(250 * time.Millisecond) // > 1/5 s: a token each time
		if _, err := send(t, p, "ec2", "DescribeInstances"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range settled(t, p) {
		if c.Fault != None {
			t.Errorf("call spaced under the rate: got %q, want none", c.Fault)
		}
	}
}
