package memory

import (
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
