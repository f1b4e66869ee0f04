// Package ec2 holds the EC2 host-compromise actions: find-instance, find-related,
// collect-metadata, isolate, release, snapshot, tag, terminate.
package ec2

import (
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds every EC2 action to r; they share c's clients. One line an
// action, so adding one is a one-line change.
func Register(r *engine.Registry, c *awsapi.Clients) {
	registerCollectMetadata(r, c)
	registerWorkstation(r, c)
	registerFindInstance(r, c)
	registerFindRelated(r, c)
	registerIsolate(r, c)
	registerRelease(r, c)
	registerSnapshot(r, c)
	registerTag(r, c)
	registerTerminate(r, c)
}
