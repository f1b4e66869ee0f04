package findings

import "strings"

// Keys of an API call's affectedResources (GuardDuty) and of the same
// under ProductFields (Security Hub): the trail a CloudTrail call acted
// on, the bucket an S3 call did.
const (
	affectedTrail  = "AWS::CloudTrail::Trail"
	affectedBucket = "AWS::S3::Bucket"
	asffAffected   = "action/awsApiCallAction/affectedResources/"
)

// guardDutyResources fills the incident's bucket, function, database and
// trail from a GuardDuty finding's resource (resourceType S3Bucket,
// Lambda, RDSDBInstance) and from the API call it reports.
func guardDutyResources(inc map[string]any, f map[string]any) {
	res := field(f, "resource")
	details, _ := dig(res, "s3BucketDetails").([]any)
	var buckets []string
	for _, d := range details {
		if name := str(dig(d, "name")); name != "" {
			buckets = append(buckets, name)
		}
	}
	affected := dig(f, "service", "action", "awsApiCallAction", "affectedResources")
	if b := str(dig(affected, affectedBucket)); b != "" && len(buckets) == 0 {
		buckets = append(buckets, b)
	}
	setBuckets(inc, buckets)
	inc["trail_arn"] = str(dig(affected, affectedTrail))
	inc["db_instance_id"] = str(dig(res, "rdsDbInstanceDetails", "dbInstanceIdentifier"))
	fn := dig(res, "lambdaDetails")
	inc["function_arn"] = str(dig(fn, "functionArn"))
	if name := str(dig(fn, "functionName")); inc["function_arn"] == "" && name != "" {
		inc["function_arn"] = functionARN(inc["region"].(string), inc["account"].(string), name)
	}
}

// setBuckets sets bucket_name (the first) and bucket_names (all,
// comma-separated: incident values are strings).
func setBuckets(inc map[string]any, buckets []string) {
	if len(buckets) > 0 {
		inc["bucket_name"] = buckets[0]
		inc["bucket_names"] = strings.Join(buckets, ",")
	}
}

// functionARN builds a function's ARN from its name, for a finding that
// gives only the name; "" when the region or account is unknown.
func functionARN(region, account, name string) string {
	if region == "" || account == "" {
		return name
	}
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// asffResourceFields fills the incident from an ASFF resource of one of
// the newer families; setOnce keeps the first resource that says.
func asffResourceFields(setOnce func(k, v string), res map[string]any) {
	id := str(res["Id"])
	switch str(res["Type"]) {
	case "AwsS3Bucket":
		setOnce("bucket_name", lastSegment(id))
	case "AwsLambdaFunction":
		if strings.HasPrefix(id, "arn:") {
			setOnce("function_arn", id)
		}
		setOnce("function_arn", str(dig(res, "Details", "AwsLambdaFunction", "FunctionName")))
	case "AwsRdsDbInstance":
		setOnce("db_instance_id", str(dig(res, "Details", "AwsRdsDbInstance", "DBInstanceIdentifier")))
		setOnce("db_instance_id", lastSegment(id))
	case "AwsIamRole":
		setOnce("role_name", lastSegment(id))
		if strings.HasPrefix(id, "arn:") {
			setOnce("principal_arn", id)
		}
	case "AwsCloudTrailTrail":
		setOnce("trail_arn", id)
	}
}

// asffProductFields reads the resources an API call acted on, which
// Security Hub keeps flattened under ProductFields.
func asffProductFields(inc map[string]any, f map[string]any) {
	pf, _ := f["ProductFields"].(map[string]any)
	if inc["trail_arn"] == "" {
		inc["trail_arn"] = str(pf[asffAffected+affectedTrail])
	}
	if b := str(pf[asffAffected+affectedBucket]); b != "" && inc["bucket_name"] == "" {
		setBuckets(inc, []string{b})
	}
}
