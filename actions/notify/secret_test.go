package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// The webhook URL is a secret (its path or query is often the token): no
// failure may put it in the step error, which goes into the journal, the
// manifest, the custody log and the logs.
func TestWebhookErrorsHideTheToken(t *testing.T) {
	t.Parallel()
	const token = "SECRETTOKEN"
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close() // nothing listens there any more
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://hooks.example.com/services/"+token+"?token="+token, http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	tests := []struct {
		name, url, want string
	}{
		{"connection refused", refusedURL + "/hooks/" + token + "?token=" + token, "connection refused"},
		{"redirect to a token URL", redirect.URL + "/hooks/" + token, `a redirect to "https://hooks.example.com": put the final URL in webhook`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := fixedNotify(nil).Run(context.Background(), stepInput(engine.Params{"webhook": tt.url, "message": "m"}, nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error: got %q, want no %q in it", err, token)
			}
		})
	}
}

// A client timeout stays a timeout once the URL is dropped from the error.
func TestWebhookTimeoutKeepsItsClass(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) })
	n := fixedNotify(nil)
	n.http.Timeout = time.Millisecond // the server never answers: this only decides how soon the test ends
	_, err := n.Run(context.Background(), stepInput(engine.Params{"webhook": srv.URL + "/SECRETTOKEN", "message": "m"}, nil))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !engine.IsRetryable(err) || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("Run: got %v, want a retryable timeout without the token", err)
	}
}
