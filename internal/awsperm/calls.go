package awsperm

import "slices"

// callPermissions maps an API call ("service:Operation", as
// ActionSpec.Calls has it) to the IAM actions it needs, where they are not
// the call's own name. Most calls need exactly their name; S3 is where they
// differ most (multipart parts are s3:PutObject, HeadBucket is
// s3:ListBucket).
var callPermissions = map[string][]string{
	"s3:CompleteMultipartUpload":            {"s3:PutObject"},
	"s3:CreateMultipartUpload":              {"s3:PutObject"},
	"s3:UploadPart":                         {"s3:PutObject"},
	"s3:UploadPartCopy":                     {"s3:PutObject", "s3:GetObject"},
	"s3:CopyObject":                         {"s3:PutObject", "s3:GetObject"},
	"s3:HeadObject":                         {"s3:GetObject"},
	"s3:HeadBucket":                         {"s3:ListBucket"},
	"s3:ListObjects":                        {"s3:ListBucket"},
	"s3:ListObjectsV2":                      {"s3:ListBucket"},
	"s3:ListObjectVersions":                 {"s3:ListBucketVersions"},
	"s3:ListMultipartUploads":               {"s3:ListBucketMultipartUploads"},
	"s3:ListParts":                          {"s3:ListMultipartUploadParts"},
	"s3:DeleteObjects":                      {"s3:DeleteObject"},
	"s3:GetBucketEncryption":                {"s3:GetEncryptionConfiguration"},
	"s3:PutBucketEncryption":                {"s3:PutEncryptionConfiguration"},
	"s3:GetPublicAccessBlock":               {"s3:GetBucketPublicAccessBlock"},
	"s3:PutPublicAccessBlock":               {"s3:PutBucketPublicAccessBlock"},
	"s3:GetObjectLockConfiguration":         {"s3:GetBucketObjectLockConfiguration"},
	"s3:PutObjectLockConfiguration":         {"s3:PutBucketObjectLockConfiguration"},
	"s3:GetBucketLifecycleConfiguration":    {"s3:GetLifecycleConfiguration"},
	"s3:PutBucketLifecycleConfiguration":    {"s3:PutLifecycleConfiguration"},
	"s3:GetBucketReplication":               {"s3:GetReplicationConfiguration"},
	"s3:GetBucketNotificationConfiguration": {"s3:GetBucketNotification"},
	"s3:PutBucketNotificationConfiguration": {"s3:PutBucketNotification"},
	"s3:ListBuckets":                        {"s3:ListAllMyBuckets"},
	"s3:DeletePublicAccessBlock":            {"s3:PutBucketPublicAccessBlock"},
	"s3:DeleteBucketTagging":                {"s3:PutBucketTagging"},
	"s3:GetBucketCors":                      {"s3:GetBucketCORS"},
}

// PermissionsOf returns the IAM actions call needs.
func PermissionsOf(call string) []string {
	if p, ok := callPermissions[call]; ok {
		return p
	}
	return []string{call}
}

// ForCalls returns the IAM actions calls need, in the order the calls first
// need them, each once, followed by extra: the permissions no call shows
// (iam:PassRole when a role is passed, KMS use that EC2 makes on the
// caller's behalf). An action's spec takes its Permissions from here, so
// its call list and its permission list cannot drift apart.
func ForCalls(calls []string, extra ...string) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, c := range calls {
		for _, p := range PermissionsOf(c) {
			add(p)
		}
	}
	for _, p := range extra {
		add(p)
	}
	return out
}
