package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/actions/all"
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
	return all.Registry(clients, all.Options{Progress: captureProgress{st}})
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
