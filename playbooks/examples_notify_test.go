package playbooks_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// procState is the state letter of pid in /proc (R, S, T, Z ...).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading the state of %d: %v", pid, err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0]
}

func TestApproveSuspendProcessRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ask       bool // an approver is there to ask
		answer    bool
		wantRun   engine.RunStatus
		wantStep  engine.StepStatus
		wantAfter engine.StepStatus // needs suspend
		wantState string
	}{
		{"approved", true, true, engine.RunSucceeded, engine.StatusSucceeded, engine.StatusSucceeded, "T"},
		// Declined is skipped, not failed: the responder chose; what needs
		// it is skipped too, while state (when: always()) runs.
		{"declined", true, false, engine.RunSucceeded, engine.StatusSkipped, engine.StatusSkipped, "S"},
		{"nobody to ask", false, false, engine.RunInterrupted, engine.StatusWaiting, engine.StatusPending, "S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sleeper := startSleeper(t, "100001")
			asked := make(chan string, 1)
			var approver runner.Approver
			if tt.ask {
				approver = runner.ApproverFunc(func(_ context.Context, step, question string) (bool, error) {
					asked <- step + ": " + question
					return tt.answer, nil
				})
			}
			r := runPlaybook(t, "approve-suspend-process.yaml", map[string]any{"pid": sleeper.Process.Pid}, approver)
			if r.res.Status != tt.wantRun {
				t.Errorf("run: got %s (%v), want %s", r.res.Status, r.err, tt.wantRun)
			}
			want := map[string]engine.StepStatus{"before": engine.StatusSucceeded, "suspend": tt.wantStep, "after": tt.wantAfter}
			if tt.ask {
				want["state"] = engine.StatusSucceeded
			}
			wantStatus(t, r, want)
			if got := procState(t, sleeper.Process.Pid); got != tt.wantState {
				t.Errorf("process state: got %s, want %s", got, tt.wantState)
			}
			if tt.ask {
				if q := <-asked; q != "suspend: Suspend the process with SIGSTOP? Its owner will see it hang." {
					t.Errorf("question: got %q", q)
				}
			}
		})
	}
}

// webhook records what it receives and answers with status.
func webhook(t *testing.T, status int) (*httptest.Server, chan *http.Request, chan map[string]any) {
	t.Helper()
	reqs, bodies := make(chan *http.Request, 8), make(chan map[string]any, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		reqs <- r
		bodies <- body
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, reqs, bodies
}

func TestFinallyNotifyRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		token    string
		wantRun  engine.RunStatus
		wantTell engine.StepStatus
		wantAuth string
	}{
		{"delivered", 200, "t0k3n", engine.RunSucceeded, engine.StatusSucceeded, "Bearer t0k3n"},
		{"no token, no header", 204, "", engine.RunSucceeded, engine.StatusSucceeded, ""},
		{"refused", 400, "", engine.RunFailed, engine.StatusFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, reqs, bodies := webhook(t, tt.status)
			r := runPlaybook(t, "finally-notify.yaml", map[string]any{"webhook": srv.URL, "token": tt.token}, nil)
			if r.res.Status != tt.wantRun {
				t.Errorf("run: got %s (%v), want %s", r.res.Status, r.err, tt.wantRun)
			}
			// closed runs after tell whatever tell did: when: always().
			wantStatus(t, r, map[string]engine.StepStatus{"tell": tt.wantTell, "closed": engine.StatusSucceeded})
			if len(reqs) != 1 {
				t.Fatalf("webhook: got %d requests, want 1 (a 400 is not retried)", len(reqs))
			}
			req, body := <-reqs, <-bodies
			if got := req.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization: got %q, want %q", got, tt.wantAuth)
			}
			msg, _ := body["message"].(string)
			want := fmt.Sprintf("kernel %s, listeners %s.", r.step(t, "kernel").Status, r.step(t, "listeners").Status)
			if !strings.HasSuffix(msg, want) || body["case_id"] != r.caseID {
				t.Errorf("body: got message %q case %v, want it to end %q for case %s", msg, body["case_id"], want, r.caseID)
			}
		})
	}
}

// tlsFeed serves h over TLS and writes its CA certificate to a file, as
// an internal feed with a private CA would be reached.
func tlsFeed(t *testing.T, h http.Handler) (url, caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

func TestRetriesBackoffRuns(t *testing.T) {
	t.Parallel()
	testenv.LookPath(t, "curl")
	t.Run("feed fetched", func(t *testing.T) {
		t.Parallel()
		feed, ca := tlsFeed(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "evil.example\n203.0.113.7\nxmrig\n")
		}))
		hook, _, bodies := webhook(t, 200)
		r := runPlaybook(t, "retries-backoff.yaml", map[string]any{"feed": feed, "ca_bundle": ca, "webhook": hook.URL}, nil)
		if r.res.Status != engine.RunSucceeded {
			t.Fatalf("run: got %s (%v), want succeeded", r.res.Status, r.err)
		}
		if msg := (<-bodies)["message"]; !strings.HasPrefix(fmt.Sprint(msg), "IOC feed of 3 entries fetched") {
			t.Errorf("report: got %q, want 3 entries", msg)
		}
	})
	t.Run("connection refused is retried", func(t *testing.T) {
		t.Parallel()
		closed := httptest.NewTLSServer(http.NotFoundHandler())
		closed.Close()
		hook, reqs, _ := webhook(t, 200)
		r := runPlaybook(t, "retries-backoff.yaml", map[string]any{"feed": closed.URL, "webhook": hook.URL}, nil)
		fetch := r.step(t, "fetch")
		// curl exits 7, listed in retry_exit_codes: 1 try + retries: 5.
		if r.res.Status != engine.RunFailed || fetch.Attempts != 6 || !strings.Contains(fetch.Error, "status 7") {
			t.Errorf("fetch: got run %s, %d attempts, error %q; want failed after 6 attempts with curl's exit 7", r.res.Status, fetch.Attempts, fetch.Error)
		}
		wantStatus(t, r, map[string]engine.StepStatus{"sweep": engine.StatusSkipped, "report": engine.StatusSkipped})
		if len(reqs) != 0 {
			t.Errorf("webhook: got %d requests, want none", len(reqs))
		}
	})
	t.Run("refused by the feed is final", func(t *testing.T) {
		t.Parallel()
		feed, ca := tlsFeed(t, http.NotFoundHandler())
		hook, _, _ := webhook(t, 200)
		r := runPlaybook(t, "retries-backoff.yaml", map[string]any{"feed": feed, "ca_bundle": ca, "webhook": hook.URL}, nil)
		// curl --fail exits 22 on a 404: not listed, so no retry.
		if fetch := r.step(t, "fetch"); fetch.Attempts != 1 || !strings.Contains(fetch.Error, "status 22") {
			t.Errorf("fetch: got %d attempts, error %q; want 1 with exit 22", fetch.Attempts, fetch.Error)
		}
	})
}
