//go:build unix

package testenv

import (
	"testing"
	"time"
)

func TestStartTemporalAnswersForItsNamespaceAfterARestart(t *testing.T) {
	s := StartTemporal(t)
	if err := s.waitReady(10 * time.Second); err != nil {
		t.Fatalf("started: %v", err)
	}
	s.Restart(t) // the same ports and database come back
	if err := s.waitReady(30 * time.Second); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
