package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var (
	_ engine.Planner = (*containBucket)(nil)
	_ engine.Planner = (*releaseBucket)(nil)
	_ engine.Planner = (*collectBucket)(nil)
)

// Plan lists the calls contain-bucket would make. With Check it reads the
// bucket's configuration (reads only) and says what a run would change.
func (a *containBucket) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	b := awsapi.PlanValue(in.Params["bucket"])
	d := &engine.PlanDetail{Calls: []string{
		"s3:GetBucketPolicy, GetBucketAcl, GetPublicAccessBlock, GetBucketOwnershipControls, GetBucketVersioning, GetBucketLogging, GetBucketReplication, GetBucketNotificationConfiguration, GetBucketTagging " + b + " (recorded before any change)",
		"s3:PutBucketTagging " + b + " firebreak:case, firebreak:status=contained, firebreak:prev:* (the state before, written once)",
		"s3:PutPublicAccessBlock " + b + " all four on (when not already)",
	}}
	if len(in.Params.List("deny_principals")) > 0 || in.Params.Bool("deny_all_but_responder") || isUnknown(in.Params["deny_principals"]) {
		d.Calls = append(d.Calls, "sts:GetCallerIdentity (the responder)",
			"s3:PutBucketPolicy "+b+" adding "+sidDenySuspects+" for "+awsapi.PlanValue(in.Params["deny_principals"])+denyAllNote(in.Params)+" (the bucket's own statements kept)")
	}
	if in.Params.Bool("versioning") || isUnknown(in.Params["versioning"]) {
		d.Calls = append(d.Calls, "s3:PutBucketVersioning "+b+" Enabled (when not already)")
	}
	if lb := in.Params["log_bucket"]; lb != "" && lb != nil {
		d.Calls = append(d.Calls, "s3:PutBucketPolicy "+awsapi.PlanValue(lb)+" granting logging.s3.amazonaws.com s3:PutObject under "+awsapi.PlanValue(in.Params["log_prefix"])+b+"/",
			"s3:PutBucketLogging "+b+" to "+awsapi.PlanValue(lb))
	}
	name, known := in.Params["bucket"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	cfg, err := readConfig(ctx, awsapi.PlanEvidence, name, containReads(a.api(region)))
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, describeConfig(cfg)...)
	return d, nil
}

func denyAllNote(p engine.Params) string {
	if p.Bool("deny_all_but_responder") {
		return " and " + sidDenyAllBut + " (everyone but the responder and " + awsapi.PlanValue(p["except_principals"]) + ")"
	}
	return ""
}

func isUnknown(v any) bool { _, ok := v.(engine.Unknown); return ok }

// describeConfig says what a plan found on the bucket.
func describeConfig(cfg *bucketConfig) []string {
	var notes []string
	if p, _ := cfg.Values["public_access_block"].(*pab); p.allOn() {
		notes = append(notes, "Block Public Access is on")
	} else {
		notes = append(notes, "Block Public Access is off (or partly): it would be turned on")
	}
	switch v, _ := cfg.Values["versioning"].(map[string]any); v["status"] {
	case "Enabled":
	case "", nil:
		notes = append(notes, "versioning was never enabled: it would be turned on")
	default:
		notes = append(notes, fmt.Sprintf("versioning is %v: it would be turned on", v["status"]))
	}
	if l, _ := cfg.Values["logging"].(*logTarget); l != nil {
		notes = append(notes, "server access logs go to "+l.Bucket+"/"+l.Prefix)
	} else {
		notes = append(notes, "server access logging is off")
	}
	if tags, _ := cfg.Values["tags"].(map[string]string); tags[prevTagPAB] != "" {
		notes = append(notes, "the bucket is contained already (case "+tags["firebreak:case"]+"): its prev tags hold the state before")
	}
	for name, why := range cfg.Gaps {
		notes = append(notes, name+" cannot be read here: "+why)
	}
	return notes
}

// Plan lists the calls release-bucket would make; with Check it reads the
// bucket's tags and says whether there is a containment to undo.
func (a *releaseBucket) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	b := awsapi.PlanValue(in.Params["bucket"])
	d := &engine.PlanDetail{Calls: []string{
		"s3:GetBucketTagging " + b + " (the prev tags, unless previous_state is given)",
		"s3:PutBucketPolicy or DeleteBucketPolicy " + b + " without the " + containSidPrefix + "* statements",
		"s3:PutPublicAccessBlock or DeletePublicAccessBlock " + b + " as recorded",
		"s3:PutBucketVersioning " + b + " as recorded (Suspended when it had none)",
		"s3:PutBucketLogging " + b + " as recorded; s3:PutBucketPolicy on the log bucket without its grant",
		"s3:PutBucketTagging " + b + " its own tags, firebreak:status=released",
	}}
	name, known := in.Params["bucket"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	r := &bucketRelease{bucket: name, api: a.api(region)}
	if err := r.load(ctx, in.Params.Map("previous_state")); err != nil {
		d.Problems = append(d.Problems, err.Error())
	} else {
		d.Notes = append(d.Notes, fmt.Sprintf("would restore: public access block %s, versioning %q, logging %s", r.want.PublicAccessBlock.tag(), r.want.Versioning, r.want.Logging.tag()))
	}
	return d, nil
}

// Plan lists collect-bucket's reads; with Check it reads the configuration
// (the listing of versions is left to the run).
func (a *collectBucket) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	b := awsapi.PlanValue(in.Params["bucket"])
	d := &engine.PlanDetail{Calls: []string{
		"s3:Get* " + b + " (" + strings.Join(readNames(collectReads(nil)), ", ") + ")",
		"s3:ListObjectVersions " + b + " up to " + awsapi.PlanValue(in.Params["max_versions"]) + " versions and delete markers",
	}}
	name, known := in.Params["bucket"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	cfg, err := readConfig(ctx, awsapi.PlanEvidence, name, collectReads(a.api(region)))
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("%d settings read, %d not configured, %d not readable here", len(cfg.Values), len(cfg.Absent), len(cfg.Gaps)))
	return d, nil
}

func readNames(reads []configRead) []string {
	out := make([]string, len(reads))
	for i, r := range reads {
		out[i] = r.name
	}
	return out
}
