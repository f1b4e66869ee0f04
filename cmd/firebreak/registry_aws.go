package main

import (
	"github.com/firebreak-ir/firebreak/actions/awsapi"
	"github.com/firebreak-ir/firebreak/actions/ec2"
	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/actions/s3"
	"github.com/firebreak-ir/firebreak/engine"
)

// registerAWS adds the AWS action families: one line each, all sharing
// clients. A new family is one more line here.
func registerAWS(reg *engine.Registry, clients *awsapi.Clients) {
	ec2.Register(reg, clients)
	s3.Register(reg, clients)
	memory.Register(reg, clients.S3(""))
}
