package s3store

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/evidence/storetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestS3StoreConformance: the S3 store keeps the Store contract on moto,
// each test under its own prefix of one versioned bucket, each open a new
// Store value (its own custody mirrors and lease token) as another run's
// would be.
func TestS3StoreConformance(t *testing.T) {
	clients, _ := startS3(t, "conformance")
	var n atomic.Int32
	storetest.TestStore(t, func(t *testing.T) func() evidence.Store {
		uri := fmt.Sprintf("s3://conformance/t%d", n.Add(1))
		return func() evidence.Store {
			st, err := FromClients(clients, uri)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	})
}

// TestS3SchemeOpens: the s3 scheme Register adds opens the same store as
// New, through the client given.
func TestS3SchemeOpens(t *testing.T) {
	clients, _ := startS3(t, "schemed")
	schemes := evidence.NewSchemes()
	asked := 0
	Register(schemes, func(context.Context) API { asked++; return clients.S3("") })
	st, err := schemes.Open(testenv.Context(t), "s3://schemed/cases/")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.URI("c1/manifest.json"); got != "s3://schemed/cases/c1/manifest.json" || asked != 1 {
		t.Errorf("URI = %s, client asked %d time(s); want s3://schemed/cases/c1/manifest.json, once", got, asked)
	}
	if _, err := st.Put(testenv.Context(t), "c1/x.txt", strings.NewReader("x")); err != nil {
		t.Errorf("Put through the opened store: %v", err)
	}
	if _, err := schemes.Open(testenv.Context(t), "s3:/schemed"); err == nil {
		t.Error("Open of s3:/schemed: got no error")
	}
}
