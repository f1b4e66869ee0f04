package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/actions/evidence"
	"github.com/firebreak-ir/firebreak/actions/local"
	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/actions/notify"
	"github.com/firebreak-ir/firebreak/engine"
)

// registry builds the action catalogue: every family registered once, here
// and nowhere else. live is true for commands that may call AWS (plan,
// run, resume); the others get clients that load nothing.
func (st *cliState) registry(ctx context.Context, live bool) *engine.Registry {
	clients := specClients()
	if live {
		clients = st.awsClients(ctx)
	}
	reg := engine.NewRegistry()
	registerFamilies(reg, clients, captureProgress{st})
	return reg
}

// registerFamilies is the one place action families are wired in.
func registerFamilies(reg *engine.Registry, clients *awsapi.Clients, progress memory.Progress) {
	// Actions that need no cloud.
	local.Register(reg)
	evidence.Register(reg)
	// Webhooks need nothing; SNS topics fail, saying why, when AWS is not set up.
	notify.Register(reg, clients.SNS(""))

	// AWS families share clients; they are wired in registry_aws.go.
	registerAWS(reg, clients, progress)
}

// needsAWS reports whether any step of pb uses an action that calls AWS,
// judged by the IAM permissions the action declares.
func needsAWS(reg *engine.Registry, pb *engine.Playbook) bool {
	for _, s := range pb.AllSteps() {
		if a, ok := reg.Lookup(s.Action); ok && len(a.Spec().Permissions) > 0 {
			return true
		}
	}
	return false
}
