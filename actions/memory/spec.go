package memory

import (
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// captureCalls are the S3 calls of s3:// sinks.
var captureCalls = []string{"s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload", "s3:AbortMultipartUpload",
	"s3:HeadObject", "s3:GetObject", "s3:PutObjectTagging"}

// Spec implements engine.Action. The parameter names are a contract:
// playbooks in the field name them.
func (c *capture) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "capture-memory",
		Summary: "Stream a Linux host's memory over SSH (LiME, AVML or raw) to files or S3, hashed, complete or failed",
		Params:  engine.ParamsOf[captureParams](),
		Outputs: []engine.Output{
			{Name: "sha256", Type: engine.TypeString, Doc: "SHA-256 of the uncompressed stream", Headline: true},
			{Name: "size", Type: engine.TypeInt, Doc: "bytes of the uncompressed stream", Headline: true},
			{Name: "uris", Type: engine.TypeList, Doc: "one per sink", Headline: true},
			{Name: "method", Type: engine.TypeString},
			{Name: "complete", Type: engine.TypeBool, Doc: "true only when every expected byte arrived", Headline: true},
			{Name: "lime_ranges", Type: engine.TypeList, Doc: "{start, end} of each LiME range (inclusive end)"},
			{Name: "host_key_fingerprint", Type: engine.TypeString},
			{Name: "host_key_verified_by", Type: engine.TypeString, Doc: "pinned, console-output, known-hosts or insecure"},
			{Name: "expected_size", Type: engine.TypeInt},
			{Name: "expected_size_from", Type: engine.TypeString, Doc: "expected_size, iomem, lime-headers, stat, blockdev or meminfo (approximate)"},
		},
		Calls:       captureCalls,
		Permissions: awsperm.ForCalls(captureCalls),
		// Loading a kernel module and running tools on the target change it.
		Mutating: true,
	}
}

var _ engine.StepIAMer = (*capture)(nil)

// StepIAM: the S3 calls are the s3:// sinks', so they go on the objects
// under the sinks a step writes as literals (none written: the image goes
// to the run's evidence store, whose own grant covers it, and the step
// needs no S3 permission of its own). Sinks an expression decides are
// granted under the evidence location when the policy has one, with a
// note; otherwise any bucket.
func (c *capture) StepIAM(p engine.Params, ev engine.IAMEvidence) engine.StepIAM {
	perms := c.Spec().Permissions
	raw, written := p["sinks"]
	if _, unknown := raw.(engine.Unknown); unknown {
		if ev.Bucket == "" {
			return engine.StepIAM{}
		}
		return engine.StepIAM{Grants: []engine.Grant{{Statement: "MemorySinkObjects", Actions: perms,
			Resource: []string{s3Objects(ev.Bucket, ev.Prefix)},
			Note:     "capture-memory's sinks are decided by an expression: its S3 writes are granted under the evidence location only; a sink elsewhere needs a grant of its own"}}}
	}
	list, _ := raw.([]any)
	if !written || len(list) == 0 {
		return engine.StepIAM{Drop: perms}
	}
	var res []string
	for _, v := range list {
		s, _ := v.(string)
		loc, err := parseSink(s)
		if err != nil {
			return engine.StepIAM{} // the run refuses it; the policy stays as the spec says
		}
		if loc.Scheme == s3Scheme && !slices.Contains(res, s3Objects(loc.Host, loc.Path)) {
			res = append(res, s3Objects(loc.Host, loc.Path))
		}
	}
	if len(res) == 0 {
		return engine.StepIAM{Drop: perms}
	}
	return engine.StepIAM{Grants: []engine.Grant{{Statement: "MemorySinkObjects", Actions: perms, Resource: res}}}
}

// s3Objects is the ARN of the objects under bucket/prefix.
func s3Objects(bucket, prefix string) string {
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		return "arn:aws:s3:::" + bucket + "/" + prefix + "/*"
	}
	return "arn:aws:s3:::" + bucket + "/*"
}
