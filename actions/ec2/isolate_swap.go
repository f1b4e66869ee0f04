package ec2

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// swapBackoff bounds the retries of the move out of the allow-all
// conversion group: the ENI is wide open until it lands somewhere else.
var swapBackoff = backoff{base: 200 * time.Millisecond, max: 5 * time.Second, budget: 30 * time.Second}

// swapGroups moves one ENI into the conversion group, then into target.
// An ENI already in target alone (a rerun) is left as it is: passing it
// through the allow-all conversion group again would open the host for a
// moment, and its tracked flows were cut by the first isolation.
//
// The second move is retried (transient errors, and NotFound on a group
// just created); if it still fails, the ENI is moved back to original, its
// recorded groups, rather than left allow-all, and the error says where
// the ENI is.
func swapGroups(ctx context.Context, api isolateEC2, ev engine.Evidence, eni string, current []types.GroupIdentifier, original []string, conversion, target string) error {
	if len(current) == 1 && aws.ToString(current[0].GroupId) == target {
		return nil
	}
	if _, err := moveENI(ctx, api, ev, eni, []string{conversion}, transient); err != nil {
		return err
	}
	moved, err := moveENI(ctx, api, ev, eni, []string{target}, pendingOrTransient)
	if moved {
		return err // nil, or only the custody record failed
	}
	// The step's ctx may be what ended: the way back must still be tried.
	back := context.WithoutCancel(ctx)
	if _, rerr := moveENI(back, api, ev, eni, original, transient); rerr != nil {
		return fmt.Errorf("%w; moving it back to its original groups %q failed too: %w: %q is STILL IN THE ALLOW-ALL GROUP %q, move it by hand now",
			err, original, rerr, eni, conversion)
	}
	return fmt.Errorf("%w; moved it back to its original groups %q: %q is not isolated", err, original, eni)
}

// moveENI puts the ENI in groups, retrying the call while again accepts
// its error, and records the change. moved says whether the ENI moved.
func moveENI(ctx context.Context, api isolateEC2, ev engine.Evidence, eni string, groups []string, again func(error) bool) (bool, error) {
	err := retry(ctx, swapBackoff, again, func() error {
		_, err := api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(eni), Groups: groups,
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("moving %q into %q: %w", eni, groups, awsapi.Classify(err))
	}
	return true, awsapi.Change(ctx, ev, "ec2:ModifyNetworkInterfaceAttribute", map[string]any{"network_interface_id": eni, "groups": groups})
}
