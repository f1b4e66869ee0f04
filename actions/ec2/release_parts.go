package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// removeNACLDenies deletes the deny-all /32 entries isolate added for the
// host's addresses to the ACLs of its VPC; there are none unless isolate
// ran with nacl.
func removeNACLDenies(ctx context.Context, api isolateEC2, ev engine.Evidence, vpc string, addrs []hostAddr) error {
	acls, err := vpcACLs(ctx, api, vpc)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, a := range addrs {
		mine[a.ip+"/32"] = true
	}
	for _, acl := range acls {
		for _, e := range acl.Entries {
			if !mine[aws.ToString(e.CidrBlock)] || e.RuleAction != types.RuleActionDeny || aws.ToString(e.Protocol) != "-1" {
				continue
			}
			if _, err := api.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{
				NetworkAclId: acl.NetworkAclId, RuleNumber: e.RuleNumber, Egress: e.Egress,
			}); err != nil {
				return fmt.Errorf("deleting deny entry %d of network ACL %q: %w", aws.ToInt32(e.RuleNumber), aws.ToString(acl.NetworkAclId), awsapi.Classify(err))
			}
			if err := awsapi.Change(ctx, ev, "ec2:DeleteNetworkAclEntry", map[string]any{"network_acl_id": aws.ToString(acl.NetworkAclId), "rule_number": aws.ToInt32(e.RuleNumber), "egress": aws.ToBool(e.Egress)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseTags marks the instance released, with the release's case beside
// the case that contained it (firebreak:case stays: it is what ties the
// instance to its evidence). Only when everything else was
// restored does it drop the prev tags: a rerun after a failure still needs
// them, and a later isolation must record the state of that day.
func releaseTags(ctx context.Context, api isolateEC2, ev engine.Evidence, st *preState, caseID string, allDone bool) error {
	status := "released"
	if !allDone {
		status = "release-incomplete"
	}
	tags := map[string]string{awsapi.TagStatus: status, awsapi.TagReleaseCase: caseID}
	if err := createTags(ctx, api, st.InstanceID, tags); err != nil {
		return err
	}
	if err := awsapi.Change(ctx, ev, "ec2:CreateTags", map[string]any{"resource": st.InstanceID, "tags": tags}); err != nil {
		return err
	}
	if !allDone {
		return nil
	}
	drop := map[string][]string{st.InstanceID: {prevTagAPITermination, prevTagShutdown, prevTagProfile, prevTagASG, prevTagTargets, prevTagELBs}}
	for eni := range st.Groups {
		drop[eni] = groupTagKeys(st.Groups[eni])
	}
	for _, vol := range st.Volumes {
		drop[vol] = []string{prevTagDOT}
	}
	for _, res := range engine.SortedKeys(drop) {
		var keys []types.Tag
		for _, k := range drop[res] {
			keys = append(keys, types.Tag{Key: aws.String(k)})
		}
		if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{res}, Tags: keys}); err != nil {
			return fmt.Errorf("removing the prev tags of %q: %w", res, awsapi.Classify(err))
		}
	}
	return awsapi.Change(ctx, ev, "ec2:DeleteTags", map[string]any{"resources": engine.SortedKeys(drop), "keys": "firebreak:prev:*"})
}
