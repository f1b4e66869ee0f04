package awsperm

import (
	"reflect"
	"strings"
	"testing"
)

func TestForCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		calls []string
		extra []string
		want  []string
	}{
		{"same names", []string{"ec2:DescribeInstances", "ec2:CreateTags"}, nil, []string{"ec2:DescribeInstances", "ec2:CreateTags"}},
		{"multipart is PutObject, once, where first needed", []string{"s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload",
			"s3:AbortMultipartUpload", "s3:HeadObject", "s3:GetObject"}, nil,
			[]string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"}},
		{"one call, two permissions", []string{"s3:CopyObject"}, nil, []string{"s3:PutObject", "s3:GetObject"}},
		{"extras after, each once", []string{"ec2:AssociateIamInstanceProfile"}, []string{"iam:PassRole", "ec2:AssociateIamInstanceProfile"},
			[]string{"ec2:AssociateIamInstanceProfile", "iam:PassRole"}},
		{"none", nil, nil, nil},
	}
	for _, tt := range tests {
		if got := ForCalls(tt.calls, tt.extra...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ForCalls(%q, %q) = %q, want %q", tt.name, tt.calls, tt.extra, got, tt.want)
		}
	}
}

// TestCallTableNamesIAMActions: every entry maps a call to IAM actions of
// the same service, never to itself (an identity entry is noise).
func TestCallTableNamesIAMActions(t *testing.T) {
	t.Parallel()
	for call, perms := range callPermissions {
		svc, _, _ := strings.Cut(call, ":")
		for _, p := range perms {
			if ps, _, _ := strings.Cut(p, ":"); ps != svc || p == call && len(perms) == 1 {
				t.Errorf("%s -> %q: want other IAM actions of service %s", call, perms, svc)
			}
		}
	}
}
