package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// instanceStore says what instance-store (ephemeral) storage the instance
// has: its data is lost on stop and on terminate, whatever the snapshots.
// EC2 lists only EBS volumes in an instance's block device mappings, so the
// instance type says it. A failed look-up is reported, not fatal: it must
// not keep a compromised host running.
type instanceStore struct {
	Present bool   `json:"present"`
	Known   bool   `json:"known"`
	Disks   int32  `json:"disks,omitempty"`
	SizeGB  int64  `json:"total_size_gb,omitempty"`
	Note    string `json:"note"`
}

func readInstanceStore(ctx context.Context, api terminateAPI, inst types.Instance) instanceStore {
	it := inst.InstanceType
	out, err := api.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{it}})
	if err != nil || len(out.InstanceTypes) == 0 {
		return instanceStore{Note: fmt.Sprintf("unknown: instance type %q could not be read (%v): any instance-store data is lost", it, awsapi.Classify(err))}
	}
	info := out.InstanceTypes[0].InstanceStorageInfo
	if !aws.ToBool(out.InstanceTypes[0].InstanceStorageSupported) || info == nil {
		return instanceStore{Known: true, Note: fmt.Sprintf("none: instance type %q has no instance store", it)}
	}
	s := instanceStore{Present: true, Known: true, SizeGB: aws.ToInt64(info.TotalSizeInGB)}
	for _, d := range info.Disks {
		s.Disks += aws.ToInt32(d.Count)
	}
	s.Note = fmt.Sprintf("instance type %q has %d instance-store disk(s), %d GB: their data is lost on stop or terminate and no snapshot holds it",
		it, s.Disks, s.SizeGB)
	return s
}
