package e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	ec2actions "github.com/firebreak-ir/firebreak/actions/ec2"
	evactions "github.com/firebreak-ir/firebreak/actions/evidence"
	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/actions/notify"
	s3actions "github.com/firebreak-ir/firebreak/actions/s3"
	"github.com/firebreak-ir/firebreak/engine"
)

// registry holds the actions the host playbooks and their examples use,
// wired to cfg as cmd/firebreak wires them.
func registry(cfg aws.Config) (*engine.Registry, *awsapi.Clients) {
	r := engine.NewRegistry()
	c := awsapi.NewClients(cfg)
	ec2actions.Register(r, c)
	s3actions.Register(r, c)
	evactions.Register(r)
	notify.Register(r, c.SNS(""))
	memory.Register(r, c.S3(""))
	return r, c
}
