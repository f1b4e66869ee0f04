// Package s3 holds the S3 actions: evidence-bucket, which creates or checks
// the hardened bucket a case's evidence goes to.
package s3

import (
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/engine"
)

// Register adds every S3 action to r; they share c's clients.
func Register(r *engine.Registry, c *awsapi.Clients) {
	registerEvidenceBucket(r, c)
}
