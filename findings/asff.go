package findings

import (
	"strings"
)

// asffIncident derives the incident from a Security Hub ASFF finding.
func asffIncident(f map[string]any) map[string]any {
	inc := newIncident()
	guardDuty := strings.HasSuffix(str(f["ProductArn"]), "/guardduty")
	inc["type"] = asffType(f, guardDuty)
	inc["region"] = str(f["Region"])
	inc["account"] = str(f["AwsAccountId"])
	inc["finding_id"] = str(f["Id"])
	if _, id, ok := strings.Cut(str(f["Id"]), "/finding/"); guardDuty && ok {
		inc["finding_id"] = id // the GuardDuty id, as the other shapes give it
	}
	inc["severity"] = strings.ToUpper(str(dig(f, "Severity", "Label")))
	if n, ok := dig(f, "Severity", "Normalized").(float64); ok && inc["severity"] == "" {
		inc["severity"] = severityLabel(n, 100)
	}
	resources, _ := f["Resources"].([]any)
	var buckets []string
	for _, r := range resources {
		if res, ok := r.(map[string]any); ok {
			asffResource(inc, res)
			if str(res["Type"]) == "AwsS3Bucket" {
				buckets = append(buckets, lastSegment(str(res["Id"])))
			}
		}
	}
	setBuckets(inc, buckets)
	asffProductFields(inc, f)
	return inc
}

// asffResource fills the incident from one of the finding's resources;
// the first resource that says something wins.
func asffResource(inc map[string]any, res map[string]any) {
	id := str(res["Id"])
	setOnce := func(k, v string) {
		if inc[k] == "" && v != "" {
			inc[k] = v
		}
	}
	switch str(res["Type"]) {
	case "AwsEc2Instance":
		setOnce("instance_id", lastSegment(id))
		setOnce("region", str(res["Region"]))
	case "AwsIamAccessKey":
		setOnce("access_key_id", lastSegment(id))
		key := dig(res, "Details", "AwsIamAccessKey")
		setOnce("principal", str(dig(key, "PrincipalName")))
		setOnce("principal", str(dig(key, "UserName")))
		kind := str(dig(key, "PrincipalType"))
		if kind == "AssumedRole" {
			setOnce("instance_id", sessionInstance(str(dig(key, "PrincipalId"))))
			setOnce("role_name", inc["principal"].(string))
		}
		setOnce("principal_arn", principalARN(kind, inc["account"].(string), inc["principal"].(string)))
	case "AwsIamUser", "AwsIamRole":
		setOnce("principal", lastSegment(id))
		if strings.HasPrefix(id, "arn:") {
			setOnce("principal_arn", id)
		}
	}
	asffResourceFields(setOnce, res)
}

// asffType gives a GuardDuty finding its GuardDuty type back: Security
// Hub files "Backdoor:EC2/C&CActivity.B" as "TTPs/Command and
// Control/Backdoor:EC2-C&CActivity.B", since "/" separates its own
// namespaces. Other products' types are kept whole.
func asffType(f map[string]any, guardDuty bool) string {
	types, _ := f["Types"].([]any)
	if len(types) == 0 {
		return ""
	}
	t := str(types[0])
	if !guardDuty {
		return t
	}
	t = t[strings.LastIndex(t, "/")+1:]
	if colon := strings.Index(t, ":"); colon >= 0 {
		if dash := strings.Index(t[colon:], "-"); dash >= 0 {
			t = t[:colon+dash] + "/" + t[colon+dash+1:]
		}
	}
	return t
}

// lastSegment is the resource name at the end of an ARN or of an ASFF id
// ("arn:aws:ec2:...:instance/i-0abc" -> "i-0abc",
// "AWS::IAM::AccessKey:AKIA..." -> "AKIA..."); an id with neither
// separator is returned as it is.
func lastSegment(id string) string {
	return id[strings.LastIndexAny(id, "/:")+1:]
}
