package ec2

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestWorkstationInstallsAnalysisTools: on moto, the workstation is
// launched with user data that installs sleuthkit and yara (what
// analyze-disk and analyze-memory run there) and checks for their tools;
// analysis_tools: false launches it without.
func TestWorkstationInstallsAnalysisTools(t *testing.T) {
	w, _ := wsWorld(t, "cr-tools")
	ctx := testenv.Context(t)
	a := newWorkstationAction(w)
	in, _ := stepInput("cr-run", withDefaults(a, wsParams(w, t, "cr-tools")))
	out := mustRun(t, a, in)
	id := aws.ToString(outString(out, "instance_id"))
	attr, err := w.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	if attr.UserData == nil {
		t.Fatal("the workstation has no user data")
	}
	script, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#!/bin/sh", "apt-get install -y sleuthkit yara", "dnf install -y sleuthkit yara", "for t in mmls fls yara"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("user data lacks %q:\n%s", want, script)
		}
	}

	w2, _ := wsWorld(t, "cr-bare")
	a2 := newWorkstationAction(w2)
	p := wsParams(w2, t, "cr-bare")
	p["analysis_tools"] = false
	in2, _ := stepInput("cr-run", withDefaults(a2, p))
	out2 := mustRun(t, a2, in2)
	attr2, err := w2.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(aws.ToString(outString(out2, "instance_id"))),
		Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	if attr2.UserData != nil && aws.ToString(attr2.UserData.Value) != "" {
		t.Errorf("analysis_tools false: user data %q, want none", aws.ToString(attr2.UserData.Value))
	}
}
