package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

func init() {
	openS3Store = func(ctx context.Context, st *cliState, uri string) (evidence.Store, error) {
		return s3store.FromClients(st.awsClients(ctx), uri)
	}
}
