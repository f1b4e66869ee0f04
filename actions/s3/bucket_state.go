package s3

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Tags holding a bucket's pre-containment state on the bucket itself. They
// are written before the first change and never overwritten, so a rerun, a
// resume or a second case still knows the state before any containment,
// and release-bucket can work from the bucket name alone. The bucket
// policy does not fit in a tag and needs none: containment only adds
// statements of its own (Sid prefix Firebreak), and release takes exactly
// those out again.
const (
	prevTagPAB        = "firebreak:prev:public-access-block" // "none" or four t/f: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets
	prevTagVersioning = "firebreak:prev:versioning"          // "none", "Enabled" or "Suspended"
	prevTagLogging    = "firebreak:prev:logging"             // "none", "BUCKET/PREFIX", or "artifact" when it does not fit a tag
	tagLogGrant       = "firebreak:log-grant"                // the log bucket whose policy got a grant for this bucket
)

// pab is a Block Public Access configuration.
type pab struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

func pabOf(c *types.PublicAccessBlockConfiguration) *pab {
	if c == nil {
		return nil
	}
	return &pab{aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls), aws.ToBool(c.BlockPublicPolicy), aws.ToBool(c.RestrictPublicBuckets)}
}

func (p *pab) allOn() bool {
	return p != nil && p.BlockPublicAcls && p.IgnorePublicAcls && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

func (p *pab) sdk() *types.PublicAccessBlockConfiguration {
	return &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(p.BlockPublicAcls), IgnorePublicAcls: aws.Bool(p.IgnorePublicAcls),
		BlockPublicPolicy: aws.Bool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(p.RestrictPublicBuckets)}
}

// tag encodes p for prevTagPAB (S3 tag values take no comma).
func (p *pab) tag() string {
	if p == nil {
		return "none"
	}
	b := func(v bool) byte {
		if v {
			return 't'
		}
		return 'f'
	}
	return string([]byte{b(p.BlockPublicAcls), b(p.IgnorePublicAcls), b(p.BlockPublicPolicy), b(p.RestrictPublicBuckets)})
}

func pabFromTag(v string) (*pab, bool) {
	if v == "none" {
		return nil, true
	}
	if len(v) != 4 || strings.Trim(v, "tf") != "" {
		return nil, false
	}
	return &pab{v[0] == 't', v[1] == 't', v[2] == 't', v[3] == 't'}, true
}

// logTarget is where server access logs go.
type logTarget struct {
	Bucket string `json:"target_bucket"`
	Prefix string `json:"target_prefix"`
}

func loggingOf(l *types.LoggingEnabled) *logTarget {
	if l == nil || aws.ToString(l.TargetBucket) == "" {
		return nil
	}
	return &logTarget{aws.ToString(l.TargetBucket), aws.ToString(l.TargetPrefix)}
}

// tagValue is what S3 takes as a tag value: at most 256 of letters,
// digits, spaces and + - = . _ : / @.
var tagValue = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)

func (l *logTarget) tag() string {
	if l == nil {
		return "none"
	}
	if v := l.Bucket + "/" + l.Prefix; tagValue.MatchString(v) {
		return v
	}
	return "artifact"
}

func logFromTag(v string) (*logTarget, bool) {
	if v == "none" {
		return nil, true
	}
	b, p, ok := strings.Cut(v, "/")
	if !ok || v == "artifact" {
		return nil, false
	}
	return &logTarget{b, p}, true
}

// bucketState is what contain-bucket changes, as it was before: the
// pre-containment artifact and the previous_state output, which
// release-bucket puts back. The settings contain-bucket records but does
// not change (ACLs, ownership, replication, notifications) are in the
// artifact's configuration.
type bucketState struct {
	Bucket            string            `json:"bucket"`
	Region            string            `json:"region"`
	Policy            string            `json:"policy,omitempty"` // "" for none; firebreak's statements left out when read back from a contained bucket
	PublicAccessBlock *pab              `json:"public_access_block"`
	Versioning        string            `json:"versioning"` // "" (never enabled), "Enabled" or "Suspended"
	Logging           *logTarget        `json:"logging"`
	Tags              map[string]string `json:"tags"` // the bucket's own tags, firebreak's left out
	// FromTags is true when the state was read back from the prev tags of
	// an earlier containment rather than from the bucket as it was.
	FromTags bool `json:"from_tags"`
}

func (s *bucketState) asMap() map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func bucketStateFromMap(m map[string]any) (*bucketState, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s bucketState
	err = json.Unmarshal(b, &s)
	return &s, err
}

// prevTags are the tags that hold s on the bucket.
func (s *bucketState) prevTags() map[string]string {
	return map[string]string{prevTagPAB: s.PublicAccessBlock.tag(), prevTagVersioning: orNone(s.Versioning), prevTagLogging: s.Logging.tag()}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func fromNone(s string) string {
	if s == "none" {
		return ""
	}
	return s
}

// isFirebreakTag reports whether a tag is firebreak's own.
func isFirebreakTag(k string) bool { return strings.HasPrefix(k, "firebreak:") }

// ownTags is tags without firebreak's.
func ownTags(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !isFirebreakTag(k) {
			out[k] = v
		}
	}
	return out
}

func tagMap(ts []types.Tag) map[string]string {
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// tagSet is m as S3 tags, in key order (stable requests).
func tagSet(m map[string]string) []types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, 0, len(m))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
