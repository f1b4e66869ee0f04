package cli

import (
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/actions/ec2"
	iamactions "github.com/firebreak-ir/firebreak/actions/iam"
	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/actions/s3"
	"github.com/firebreak-ir/firebreak/engine"
)

// registerAWS adds the AWS action families: one line each, all sharing
// clients. A new family is one more line here.
func registerAWS(reg *engine.Registry, clients *awsapi.Clients, progress memory.Progress) {
	ec2.Register(reg, clients)
	iamactions.Register(reg, clients)
	s3.Register(reg, clients)
	// capture-memory writes to S3 sinks through clients, and shows its
	// progress on the live display or in the log.
	reg.Register(memory.New(memory.Options{S3: clients.S3(""), Progress: progress}))
}
