package findings

import (
	"reflect"
	"testing"
)

// incident is want with every IncidentKeys key it does not name set to
// "": the whole incident a fixture must derive.
func incident(want map[string]any) map[string]any {
	out := newIncident()
	for k, v := range want {
		out[k] = v
	}
	return out
}

// TestParseFamilies: each family's fixture, as GuardDuty delivers it and as
// Security Hub imports it, derives the same incident: the bucket, the
// function, the database, the trail and the assumed role's name where the
// finding names them.
func TestParseFamilies(t *testing.T) {
	s3Exfil := incident(map[string]any{"type": "Exfiltration:S3/AnomalousBehavior", "severity": "HIGH", "region": "us-east-1",
		"account": "123456789012", "access_key_id": "ASIAEXAMPLESESSION34", "principal": "etl-role", "role_name": "etl-role",
		"principal_arn": "arn:aws:iam::123456789012:role/etl-role", "finding_id": "00000000000000000000000000005e3a",
		"bucket_name": "payments-exports", "bucket_names": "payments-exports"})
	trail := incident(map[string]any{"type": "Stealth:IAMUser/CloudTrailLoggingDisabled", "severity": "LOW", "region": "us-east-1",
		"account": "123456789012", "access_key_id": "ASIAEXAMPLESESSION34", "principal": "ops-admin", "role_name": "ops-admin",
		"principal_arn": "arn:aws:iam::123456789012:role/ops-admin", "finding_id": "00000000000000000000000000007c7d",
		"trail_arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit"})
	role := incident(map[string]any{"type": "Discovery:IAMUser/AnomalousBehavior", "severity": "MEDIUM", "region": "us-east-1",
		"account": "123456789012", "access_key_id": "ASIAEXAMPLESESSION56", "principal": "ci-deploy-role", "role_name": "ci-deploy-role",
		"principal_arn": "arn:aws:iam::123456789012:role/ci-deploy-role", "finding_id": "00000000000000000000000000008d8e"})
	lambda := incident(map[string]any{"type": "Backdoor:Lambda/C&CActivity.B", "severity": "HIGH", "region": "us-east-1",
		"account": "123456789012", "finding_id": "00000000000000000000000000009f9f",
		"function_arn": "arn:aws:lambda:us-east-1:123456789012:function:invoice-render"})
	rds := incident(map[string]any{"type": "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce", "severity": "HIGH",
		"region": "us-east-1", "account": "123456789012", "finding_id": "0000000000000000000000000000a1a1", "db_instance_id": "orders-db"})
	tests := []struct {
		file, shape string
		want        map[string]any
	}{
		{"guardduty-s3-exfiltration.json", ShapeGuardDutyEvent, s3Exfil},
		{"securityhub-asff-s3-exfiltration.json", ShapeASFF, s3Exfil},
		{"guardduty-s3-bpa-disabled.json", ShapeGuardDutyEvent, incident(map[string]any{
			"type": "Policy:S3/BucketBlockPublicAccessDisabled", "severity": "LOW", "region": "us-east-1", "account": "123456789012",
			"access_key_id": "AKIAEXAMPLEKEY654321", "principal": "web-admin", "principal_arn": "arn:aws:iam::123456789012:user/web-admin",
			"finding_id": "00000000000000000000000000006b0a", "bucket_name": "public-site-assets", "bucket_names": "public-site-assets"})},
		{"guardduty-cloudtrail-disabled.json", ShapeGuardDutyEvent, trail},
		{"securityhub-asff-cloudtrail-disabled.json", ShapeASFF, trail},
		{"guardduty-role-discovery.json", ShapeGuardDutyEvent, role},
		{"securityhub-asff-role-discovery.json", ShapeASFF, role},
		{"guardduty-lambda-c2.json", ShapeGuardDutyEvent, lambda},
		{"securityhub-asff-lambda-c2.json", ShapeASFF, lambda},
		{"guardduty-rds-bruteforce.json", ShapeGuardDutyEvent, rds},
		{"securityhub-asff-rds-bruteforce.json", ShapeASFF, rds},
		{"guardduty-ec2-malicious-file.json", ShapeGuardDutyEvent, incident(map[string]any{"type": "Execution:EC2/MaliciousFile",
			"severity": "HIGH", "region": "us-east-1", "account": "123456789012", "instance_id": "i-0a1b2c3d4e5f67890",
			"finding_id": "0000000000000000000000000000b2b2"})},
		{"guardduty-runtime-new-binary.json", ShapeGuardDutyEvent, incident(map[string]any{"type": "Execution:Runtime/NewBinaryExecuted",
			"severity": "MEDIUM", "region": "us-east-1", "account": "123456789012", "instance_id": "i-0a1b2c3d4e5f67890",
			"finding_id": "0000000000000000000000000000c3c3"})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := Parse(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Shape != tt.shape {
				t.Errorf("shape: got %q, want %q", f.Shape, tt.shape)
			}
			if !reflect.DeepEqual(f.Incident, tt.want) {
				for _, k := range IncidentKeys {
					if f.Incident[k] != tt.want[k] {
						t.Errorf("incident %s: got %q, want %q", k, f.Incident[k], tt.want[k])
					}
				}
			}
		})
	}
}

// TestIncidentDetails: the derivations a fixture does not show: a
// function named without its ARN, several buckets, a root or federated
// principal, a Security Hub role resource.
func TestIncidentDetails(t *testing.T) {
	tests := []struct {
		name, doc string
		want      map[string]any
	}{
		{"function by name", `{"type": "Trojan:Lambda/DropPoint", "region": "eu-west-1", "accountId": "111122223333",
			"resource": {"lambdaDetails": {"functionName": "f"}}}`,
			map[string]any{"function_arn": "arn:aws:lambda:eu-west-1:111122223333:function:f"}},
		{"two buckets", `{"type": "Exfiltration:S3/MaliciousIPCaller", "resource": {"s3BucketDetails": [{"name": "a"}, {"name": "b"}]}}`,
			map[string]any{"bucket_name": "a", "bucket_names": "a,b"}},
		{"bucket from the api call", `{"type": "Impact:S3/MaliciousIPCaller", "resource": {"resourceType": "AccessKey"},
			"service": {"action": {"awsApiCallAction": {"affectedResources": {"AWS::S3::Bucket": "c"}}}}}`,
			map[string]any{"bucket_name": "c", "bucket_names": "c"}},
		{"root", `{"type": "Policy:IAMUser/RootCredentialUsage", "accountId": "111122223333",
			"resource": {"accessKeyDetails": {"userType": "Root", "userName": "Root"}}}`,
			map[string]any{"principal": "Root", "principal_arn": "arn:aws:iam::111122223333:root"}},
		{"federated", `{"type": "Recon:IAMUser/TorIPCaller", "accountId": "111122223333",
			"resource": {"accessKeyDetails": {"userType": "FederatedUser", "userName": "alice"}}}`,
			map[string]any{"principal": "alice", "principal_arn": "arn:aws:sts::111122223333:federated-user/alice"}},
		{"asff role", `{"ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty", "Types": ["TTPs/Discovery/Discovery:IAMUser-AnomalousBehavior"],
			"Resources": [{"Type": "AwsIamRole", "Id": "arn:aws:iam::111122223333:role/ops"}]}`,
			map[string]any{"principal": "ops", "role_name": "ops", "principal_arn": "arn:aws:iam::111122223333:role/ops"}},
		{"asff function by name", `{"ProductArn": "p", "Types": ["x"], "Resources": [{"Type": "AwsLambdaFunction", "Id": "AWS::Lambda::Function:f",
			"Details": {"AwsLambdaFunction": {"FunctionName": "f"}}}]}`,
			map[string]any{"function_arn": "f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if f.Incident[k] != want {
					t.Errorf("incident %s: got %q, want %q", k, f.Incident[k], want)
				}
			}
		})
	}
}
