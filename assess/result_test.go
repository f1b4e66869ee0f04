package assess

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestErroredSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason, fix string
		err               error
	}{
		{"access denied", "s3:GetBucketAcl: api error AccessDenied", "allow s3:GetBucketAcl", &smithy.GenericAPIError{Code: "AccessDenied"}},
		{"not implemented", "s3:GetBucketAcl is not available at this endpoint", "", &smithy.GenericAPIError{Code: "NotImplemented"}},
		{"network", "s3:GetBucketAcl: connection refused", "", errors.New("connection refused")},
	}
	for _, tt := range tests {
		r := errored("b", "s3:GetBucketAcl", tt.err)
		if r.Status != Error || !strings.Contains(r.Reason, tt.reason) || !strings.HasPrefix(r.Remediation, tt.fix) || (tt.fix == "" && r.Remediation != "") {
			t.Errorf("%s: got %+v, want error, reason with %q, remediation %q", tt.name, r, tt.reason, tt.fix)
		}
	}
}

func TestRegisterRefusesDuplicatesAndBlanks(t *testing.T) {
	t.Parallel()
	run := func(context.Context, *Env, string) []Result { return nil }
	for name, f := range map[string]func(r *Registry){
		"duplicate": func(r *Registry) { r.Register(Check{ID: "a", Run: run}); r.Register(Check{ID: "a", Run: run}) },
		"no id":     func(r *Registry) { r.Register(Check{Run: run}) },
		"no run":    func(r *Registry) { r.Register(Check{ID: "a"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f(NewRegistry())
		}()
	}
}

// TestSSHRules covers rule shapes moto is not needed for: all traffic, a
// port range over 22, UDP, and a group reached through a second interface.
func TestSSHRules(t *testing.T) {
	t.Parallel()
	p := func(proto string, from, to int32) types.IpPermission {
		return types.IpPermission{IpProtocol: aws.String(proto), FromPort: aws.Int32(from), ToPort: aws.Int32(to),
			IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}
	}
	for _, tt := range []struct {
		perm types.IpPermission
		want bool
	}{
		{p("-1", -1, -1), true}, {p("tcp", 0, 65535), true}, {p("tcp", 22, 22), true},
		{p("tcp", 23, 80), false}, {p("udp", 22, 22), false}, {types.IpPermission{IpProtocol: aws.String("tcp")}, false},
	} {
		if got := sshSources([]types.IpPermission{tt.perm}) != ""; got != tt.want {
			t.Errorf("%s %v-%v: got %v, want %v", aws.ToString(tt.perm.IpProtocol), aws.ToInt32(tt.perm.FromPort), aws.ToInt32(tt.perm.ToPort), got, tt.want)
		}
	}
	inst := instance{owner: "1", Instance: types.Instance{InstanceId: aws.String("i-1"),
		NetworkInterfaces: []types.InstanceNetworkInterface{{Groups: []types.GroupIdentifier{{GroupId: aws.String("sg-eni2")}}}}}}
	if r := judgeReach("us-east-1", inst, map[string]string{"sg-eni2": "10.0.0.0/8"}); r.Status != Pass {
		t.Errorf("SSH through a second interface's group: got %s (%s), want pass", r.Status, r.Reason)
	}
}
