package e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/firebreak-ir/firebreak/actions/all"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// registry holds the actions the host playbooks and their examples use,
// wired to cfg as the CLI wires them.
func registry(cfg aws.Config) (*engine.Registry, *awsapi.Clients) {
	c := awsapi.NewClients(cfg)
	return all.Registry(c, all.Options{}), c
}
