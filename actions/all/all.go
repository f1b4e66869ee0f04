// Package all wires every action family into a registry. It is the one
// place that knows the whole catalogue: the CLI, the console, the Temporal
// worker, bench and the end-to-end tests all register through it, so a new
// family is one more line here and nowhere else.
package all

import (
	"context"

	"github.com/firebreak-ir/firebreak/actions/analysis"
	"github.com/firebreak-ir/firebreak/actions/cloudtrail"
	"github.com/firebreak-ir/firebreak/actions/ec2"
	"github.com/firebreak-ir/firebreak/actions/evidence"
	"github.com/firebreak-ir/firebreak/actions/iam"
	"github.com/firebreak-ir/firebreak/actions/lambda"
	"github.com/firebreak-ir/firebreak/actions/local"
	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/actions/notify"
	"github.com/firebreak-ir/firebreak/actions/rds"
	"github.com/firebreak-ir/firebreak/actions/s3"
	"github.com/firebreak-ir/firebreak/engine"
	fbevidence "github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

// Options configure the families beyond their AWS clients.
type Options struct {
	// Progress shows capture-memory's bytes, rate and ETA (progress bars on
	// a terminal); nil writes log lines.
	Progress memory.Progress
}

// Register adds every action family to reg. The AWS families share
// clients; actions that need no cloud (command, upload-log, webhooks) work
// whatever clients hold. Calls through clients that were not set up fail
// at run time, saying why; validation and planning never make them.
func Register(reg *engine.Registry, clients *awsapi.Clients, opts Options) {
	local.Register(reg)
	evidence.Register(reg)
	notify.Register(reg, clients.SNS(""))
	ec2.Register(reg, clients)
	iam.Register(reg, clients)
	s3.Register(reg, clients)
	cloudtrail.Register(reg, clients)
	lambda.Register(reg, clients)
	rds.Register(reg, clients)
	// capture-memory writes to s3:// sinks through clients.
	reg.Register(memory.New(memory.Options{S3: clients.S3(""), Progress: opts.Progress}))
	// analyze-memory streams s3:// images down through clients.
	images := fbevidence.NewSchemes()
	s3store.Register(images, func(context.Context) s3store.API { return clients.S3("") })
	analysis.Register(reg, analysis.Options{OpenURI: images})
}

// Registry is a new registry holding every action, wired to clients.
func Registry(clients *awsapi.Clients, opts Options) *engine.Registry {
	reg := engine.NewRegistry()
	Register(reg, clients, opts)
	return reg
}
