package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

type received struct {
	method string
	header http.Header
	body   []byte
}

// hookServer answers every POST with status and hands what it got to the
// test on a channel.
func hookServer(t *testing.T, status int) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.Header.Clone(), b}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer "+http.StatusText(status))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func stepInput(params engine.Params, ev engine.Evidence) *engine.StepInput {
	if ev == nil {
		ev = enginetest.NewEvidence()
	}
	return &engine.StepInput{RunID: "run-20261129T102217Z-a1b2c3", CaseID: "cr-20261129T102217Z-7d5f", StepID: "tell", Attempt: 1, Params: params, Evidence: ev}
}

func fixedNotify(publisher SNSPublisher) *notify {
	n := newNotify(publisher)
	n.now = func() time.Time { return time.Date(2026, 11, 29, 10, 22, 17, 0, time.UTC) }
	return n
}

func TestWebhookDelivers(t *testing.T) {
	t.Parallel()
	srv, got := hookServer(t, http.StatusNoContent)
	ev := enginetest.NewEvidence()
	params := engine.Params{
		"webhook": srv.URL + "/hooks/T0/B0?token=abc", "message": "i-0abc isolated", "subject": "containment",
		"fields":  map[string]any{"instance_id": "i-0abc", "severity": 8},
		"headers": map[string]any{"Authorization": "Bearer s3cret", "X-Team": "ir"},
		"timeout": 5 * time.Second,
	}
	out, err := fixedNotify(nil).Run(context.Background(), stepInput(params, ev))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := <-got
	if r.method != http.MethodPost || r.header.Get("Authorization") != "Bearer s3cret" || r.header.Get("X-Team") != "ir" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("request: got %s with headers %v, want POST with Authorization, X-Team and JSON content type", r.method, r.header)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	want := map[string]any{
		"source": "firebreak", "case_id": "cr-20261129T102217Z-7d5f", "run_id": "run-20261129T102217Z-a1b2c3", "step_id": "tell",
		"message": "i-0abc isolated", "text": "i-0abc isolated", "subject": "containment", "time": "2026-11-29T10:22:17Z",
		"instance_id": "i-0abc", "severity": float64(8),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q]: got %v, want %v", k, body[k], v)
		}
	}
	if len(body) != len(want) {
		t.Errorf("body: got %d keys %v, want %d", len(body), body, len(want))
	}
	stored, ok := ev.Object("notification.json")
	if !ok || string(stored) != string(r.body) || out["body_sha256"] != enginetest.SHA256(r.body) {
		t.Errorf("artifact: got %q (sha output %v), want the body sent %q", stored, out["body_sha256"], r.body)
	}
	if out["status"] != http.StatusNoContent {
		t.Errorf("status: got %v, want 204", out["status"])
	}
	if len(ev.Events()) != 1 || ev.Events()[0].Detail["status"] != http.StatusNoContent || strings.Contains(engine.Format(ev.Events()[0].Detail), "token=abc") {
		t.Errorf("custody: got %+v, want one event with status 204 and no token", ev.Events())
	}
}

func TestWebhookClassifiesAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		retryable bool
		wantErr   string
	}{
		{"server error", 500, true, `answered 500 Internal Server Error ("answer Internal Server Error")`},
		{"bad gateway", 502, true, "answered 502 Bad Gateway"},
		{"rate limited", 429, true, "answered 429 Too Many Requests"},
		{"bad request", 400, false, `refused the message: 400 Bad Request ("answer Bad Request"); check the URL and headers`},
		{"forbidden", 403, false, "refused the message: 403 Forbidden"},
		{"redirect not followed", 302, false, `answered 302 Found, a redirect to "http://127.0.0.1:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, got := hookServer(t, tt.status)
			out, err := fixedNotify(nil).Run(context.Background(), stepInput(engine.Params{"webhook": srv.URL, "message": "m"}, nil))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run: got %v, want an error containing %q", err, tt.wantErr)
			}
			if engine.IsRetryable(err) != tt.retryable {
				t.Errorf("retryable: got %v, want %v", engine.IsRetryable(err), tt.retryable)
			}
			if out["status"] != tt.status {
				t.Errorf("status: got %v, want %d", out["status"], tt.status)
			}
			<-got
			if len(got) != 0 {
				t.Errorf("requests: got %d more, want exactly one (no redirect followed)", len(got))
			}
		})
	}
}

func TestWebhookConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := fixedNotify(nil).Run(context.Background(), stepInput(engine.Params{"webhook": url, "message": "m"}, nil))
	if err == nil || !engine.IsRetryable(err) || !strings.HasPrefix(err.Error(), `posting to webhook "http://127.0.0.1:`) {
		t.Fatalf("Run: got %v, want a retryable connection error", err)
	}
}

func TestWebhookCancelledIsNotRetryable(t *testing.T) {
	t.Parallel()
	srv, _ := hookServer(t, 200)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fixedNotify(nil).Run(ctx, stepInput(engine.Params{"webhook": srv.URL, "message": "m"}, nil))
	if err == nil || engine.IsRetryable(err) {
		t.Fatalf("Run: got %v, want a non-retryable error", err)
	}
}
