package testenv

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/firebreak-ir/firebreak/internal/motoserver"
)

// Moto is a moto_server started for one test.
type Moto struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL    string
	Region string
	srv    *motoserver.Server
}

// StartMoto gives the test a moto_server on a loopback port with nothing
// in it: the test binary's shared server, reset (POST /moto-api/reset), or
// where a server cannot be shared (see sharedServer) one of its own,
// stopped when the test ends. It also sets AWS_ENDPOINT_URL, dummy
// credentials and AWS_REGION for the test (t.Setenv), so code reading the
// standard chain reaches this server and nothing else. Tests that call it
// cannot be parallel (t.Setenv), which is also what lets them share one
// server: no two of them run at once.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	srv, isShared, err := sharedServer()
	if !isShared {
		srv, err = motoserver.Start(context.Background())
	}
	if errors.Is(err, motoserver.ErrNotInstalled) {
		Missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	if isShared {
		if err := srv.Reset(); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Cleanup(srv.Stop)
	}
	m := &Moto{URL: srv.URL, Region: "us-east-1", srv: srv}
	m.setEnv(t)
	return m
}

func (m *Moto) setEnv(t testing.TB) {
	if tt, ok := t.(interface{ Setenv(k, v string) }); ok {
		tt.Setenv("AWS_ENDPOINT_URL", m.URL)
		tt.Setenv("AWS_ACCESS_KEY_ID", "testing")
		tt.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
		tt.Setenv("AWS_SESSION_TOKEN", "testing")
		tt.Setenv("AWS_REGION", m.Region)
		tt.Setenv("AWS_DEFAULT_REGION", m.Region)
		tt.Setenv("AWS_CONFIG_FILE", "/dev/null")
		tt.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	}
}

// Reset drops every resource moto holds (POST /moto-api/reset).
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	if err := m.srv.Reset(); err != nil {
		t.Fatal(err)
	}
}

// Config returns an SDK config that reaches this server with dummy
// credentials and no SDK retries. Tests use it to set up and inspect state
// through the SDK.
func (m *Moto) Config() aws.Config {
	return aws.Config{
		Region:           m.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", "testing"),
		BaseEndpoint:     aws.String(m.URL),
		RetryMaxAttempts: 1,
	}
}

// Context returns a context cancelled when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
