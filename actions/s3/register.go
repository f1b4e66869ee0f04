// Package s3 holds the S3 actions: evidence-bucket, which creates or checks
// the hardened bucket a case's evidence goes to, and the actions for a
// bucket under attack: contain-bucket, release-bucket and collect-bucket.
package s3

import (
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds every S3 action to r; they share c's clients.
func Register(r *engine.Registry, c *awsapi.Clients) {
	registerEvidenceBucket(r, c)
	registerBucketActions(r, c)
}
