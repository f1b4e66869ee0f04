package awsapi

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Tag keys firebreak writes on what it touches and later finds its work by.
const (
	TagCase   = "firebreak:case"
	TagStatus = "firebreak:status"
	TagRole   = "firebreak:role" // what a resource firebreak made is for, e.g. "isolation"
	TagVPC    = "firebreak:vpc"
	// TagReleaseCase is the case of the run that released a resource,
	// beside TagCase, which keeps the case that contained it.
	TagReleaseCase = "firebreak:release-case"
)

// EC2Tags converts a map to EC2 tags, in key order (stable requests).
func EC2Tags(m map[string]string) []ec2types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2types.Tag, 0, len(m))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// EC2TagMap converts EC2 tags to a map.
func EC2TagMap(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
