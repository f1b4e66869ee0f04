package faultproxy

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// classify names the AWS service and operation of a request as the SDK
// sends it: the service from the SigV4 credential scope, the operation
// from Action= (query protocols: EC2, IAM, STS, Auto Scaling, ELB, SNS),
// X-Amz-Target (JSON protocols) or, for S3, the method and path.
func classify(r *http.Request, body []byte) Call {
	c := Call{Service: serviceOf(r.Header.Get("Authorization")), Method: r.Method, Path: r.URL.Path}
	switch {
	case c.Service == "s3":
		c.Bucket, c.Key = splitS3Path(r.URL.Path)
		c.Operation = s3Operation(r, c.Bucket, c.Key)
	case r.Header.Get("X-Amz-Target") != "":
		t := r.Header.Get("X-Amz-Target")
		c.Operation = t[strings.LastIndex(t, ".")+1:]
	case c.Service == "lambda":
		c.Operation = lambdaOperation(r.Method, r.URL.Path)
	default:
		c.Operation = actionOf(r, body)
		c.DryRun = formValue(r, body, "DryRun") == "true"
	}
	c.Mutating = IsMutating(c.Operation)
	return c
}

// formValue reads a query-protocol parameter from the URL or the form body.
func formValue(r *http.Request, body []byte, name string) string {
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	if !bytes.Contains(body, []byte(name+"=")) {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get(name)
}

// serviceOf reads the service from "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...".
func serviceOf(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

func actionOf(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if !bytes.Contains(body, []byte("Action=")) {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}

// splitS3Path splits a path-style S3 path "/bucket/key/parts".
func splitS3Path(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// s3Operation names the S3 call well enough to write rules against and to
// tell reads from writes; bucket sub-resources (?versioning) become
// GetBucketVersioning, PutBucketVersioning and so on.
func s3Operation(r *http.Request, bucket, key string) string {
	q := r.URL.Query()
	switch {
	case bucket == "":
		return "ListBuckets"
	case key == "":
		return s3BucketOperation(r.Method, q)
	case q.Has("uploads"):
		return "CreateMultipartUpload"
	case q.Has("uploadId") && q.Has("partNumber"):
		return "UploadPart"
	case q.Has("uploadId") && r.Method == http.MethodPost:
		return "CompleteMultipartUpload"
	case q.Has("uploadId") && r.Method == http.MethodDelete:
		return "AbortMultipartUpload"
	case q.Has("uploadId"):
		return "ListParts"
	case q.Has("tagging"):
		return methodVerb(r.Method) + "ObjectTagging"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "CopyObject"
	}
	return methodVerb(r.Method) + "Object"
}

func s3BucketOperation(method string, q url.Values) string {
	for sub := range q {
		switch sub {
		case "versioning", "encryption", "policy", "tagging", "acl", "logging", "publicAccessBlock", "object-lock", "lifecycle", "location",
			"ownershipControls", "replication", "notification", "policyStatus", "cors", "website":
			return methodVerb(method) + "Bucket" + strings.ToUpper(sub[:1]) + strings.ReplaceAll(sub[1:], "-l", "L")
		case "versions":
			return "ListObjectVersions"
		}
	}
	switch method {
	case http.MethodGet:
		return "ListObjects"
	case http.MethodPut:
		return "CreateBucket"
	case http.MethodDelete:
		return "DeleteBucket"
	}
	return methodVerb(method) + "Bucket"
}

func methodVerb(m string) string {
	switch m {
	case http.MethodGet:
		return "Get"
	case http.MethodHead:
		return "Head"
	case http.MethodPut:
		return "Put"
	case http.MethodDelete:
		return "Delete"
	case http.MethodPost:
		return "Post"
	}
	return m
}

// lambdaOperations name Lambda's REST calls (restJson1: no Action, no
// X-Amz-Target) by method and what follows /functions/NAME.
var lambdaOperations = map[string]string{
	"GET ": "GetFunction", "DELETE ": "DeleteFunction", "GET /configuration": "GetFunctionConfiguration",
	"PUT /configuration": "UpdateFunctionConfiguration", "PUT /code": "UpdateFunctionCode",
	"GET /policy": "GetPolicy", "POST /policy": "AddPermission", "DELETE /policy": "RemovePermission",
	"GET /concurrency": "GetFunctionConcurrency", "PUT /concurrency": "PutFunctionConcurrency", "DELETE /concurrency": "DeleteFunctionConcurrency",
	"GET /url": "GetFunctionUrlConfig", "POST /url": "CreateFunctionUrlConfig", "PUT /url": "UpdateFunctionUrlConfig", "DELETE /url": "DeleteFunctionUrlConfig",
	"GET /aliases": "ListAliases", "GET /versions": "ListVersionsByFunction", "POST /invocations": "Invoke",
}

// lambdaOperation names a Lambda call from its method and path
// ("/2015-03-31/functions/NAME/policy/SID"); one it does not know is named
// by its method and path, and counts as mutating unless it is a GET.
func lambdaOperation(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[1] == "functions":
		sub := ""
		if len(parts) >= 4 {
			sub = "/" + parts[3]
		}
		if op, ok := lambdaOperations[method+" "+sub]; ok {
			return op
		}
	case len(parts) >= 2 && parts[1] == "tags":
		return map[string]string{http.MethodGet: "ListTags", http.MethodPost: "TagResource", http.MethodDelete: "UntagResource"}[method]
	case len(parts) == 2 && parts[1] == "functions" && method == http.MethodGet:
		return "ListFunctions"
	}
	if method == http.MethodGet {
		return "Get " + path
	}
	return method + " " + path
}

// readPrefixes are the operation name prefixes of calls that change
// nothing.
var readPrefixes = []string{"Describe", "List", "Get", "Head", "Lookup"}

// IsMutating reports whether an operation may change state: anything not
// named Describe*, List*, Get*, Head* or Lookup*. An unknown (empty)
// operation counts as mutating, so it is never missed.
func IsMutating(op string) bool {
	for _, p := range readPrefixes {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}
