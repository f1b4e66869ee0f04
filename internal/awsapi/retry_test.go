package awsapi

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

func TestRetryerModes(t *testing.T) {
	tests := []struct {
		name, env string
		adaptive  bool
	}{
		{"default is adaptive", "", true},
		{"adaptive asked", "adaptive", true},
		{"standard asked", "standard", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_RETRY_MODE", tt.env)
			r := NewRetryer(5)
			_, adaptive := r.(*retry.AdaptiveMode)
			if adaptive != tt.adaptive {
				t.Errorf("AWS_RETRY_MODE=%q: got %T, want adaptive %v", tt.env, r, tt.adaptive)
			}
			if got := r.MaxAttempts(); got != 5 {
				t.Errorf("MaxAttempts: got %d, want 5", got)
			}
			// No client-side retry quota: a long run of throttles must not
			// make the retryer refuse to retry.
			for i := 0; i < 2000; i++ {
				if _, err := r.GetRetryToken(t.Context(), errThrottle{}); err != nil {
					t.Fatalf("retry token %d: %v (a retry quota ran dry)", i, err)
				}
			}
		})
	}
}

type errThrottle struct{}

func (errThrottle) Error() string     { return "throttled" }
func (errThrottle) ErrorCode() string { return "Throttling" }
