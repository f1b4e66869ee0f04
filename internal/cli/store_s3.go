package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

// registerStores adds the stores beyond a local directory to schemes:
// s3:// through the command line's shared S3 client, set up on first use.
func (st *cliState) registerStores(schemes *evidence.Schemes) {
	s3store.Register(schemes, func(ctx context.Context) s3store.API { return st.awsClients(ctx).S3("") })
}
