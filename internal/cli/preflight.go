package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// preflightTimeout bounds each check: a responder waits for them before
// anything starts.
const preflightTimeout = 20 * time.Second

// preflight checks what a run needs before anything is created (no case,
// no run directory, no journal): the AWS set-up when the playbook or the
// evidence store calls AWS (a region, credentials that resolve, and the
// caller identity, which becomes the case's operator), the evidence
// location (an S3 bucket that exists and answers; a local directory that
// can be made), the SSH key files the inputs name, and the signing key. A
// failure is one line, exit 2: the run never started.
func (st *cliState) preflight(ctx context.Context, reg *engine.Registry, pb *engine.Playbook, inputs []map[string]any, opts runOptions) error {
	if needsAWS(reg, pb) || opts.evidence.Scheme == "s3" {
		if err := st.checkAWS(ctx); err != nil {
			who := fmt.Sprintf("playbook %q calls AWS", pb.Name)
			if !needsAWS(reg, pb) {
				who = "the evidence goes to S3"
			}
			return withCode(exitUsage, fmt.Errorf("%s, but %w", who, err))
		}
	}
	if err := st.checkEvidence(ctx, opts.evidence); err != nil {
		return withCode(exitUsage, err)
	}
	for _, in := range inputs {
		if err := checkKeyFiles(pb, in); err != nil {
			return withCode(exitUsage, err)
		}
	}
	if _, err := loadSigner(opts.signKey); err != nil {
		return withCode(exitUsage, err)
	}
	return nil
}

// checkAWS loads the configuration, resolves the credentials and asks
// sts:GetCallerIdentity who they are; the answer is kept for the operator.
func (st *cliState) checkAWS(ctx context.Context) error {
	clients := st.awsClients(ctx)
	if st.aws.err != nil {
		return fmt.Errorf("AWS is not set up: %v", firstLine(st.aws.err.Error()))
	}
	cctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	cfg := clients.Config()
	if cfg.Credentials == nil {
		return errors.New("no AWS credentials are set up (environment, --profile, shared files, SSO, instance role)")
	}
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return fmt.Errorf("no AWS credentials could be found (environment, --profile, shared files, SSO, instance role): %s", credentialsError(err))
	}
	id, err := clients.STS().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 2 })
	if err != nil && strings.Contains(err.Error(), "request send failed") {
		return fmt.Errorf("AWS does not answer (sts:GetCallerIdentity): %s", shortAWSError(err))
	}
	if err != nil {
		return fmt.Errorf("AWS credentials do not work: sts:GetCallerIdentity: %s", shortAWSError(err))
	}
	st.aws.identity = &evidence.Operator{ARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account), UserID: aws.ToString(id.UserId)}
	return nil
}

// checkEvidence checks that the evidence location can take the case: an
// S3 bucket that exists and answers (HeadBucket), a directory that exists
// or can be made. It makes nothing.
func (st *cliState) checkEvidence(ctx context.Context, loc evidence.Location) error {
	switch loc.Scheme {
	case "s3":
		return st.checkBucket(ctx, loc)
	case "file", "":
		return checkDir(loc.Path)
	}
	return nil
}

func (st *cliState) checkBucket(ctx context.Context, loc evidence.Location) error {
	cctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	_, err := st.awsClients(ctx).S3("").HeadBucket(cctx, &s3.HeadBucketInput{Bucket: aws.String(loc.Host)},
		func(o *s3.Options) { o.RetryMaxAttempts = 2 })
	switch code := awsapi.Code(err); {
	case err == nil:
		return nil
	case code == "NotFound" || code == "NoSuchBucket":
		return fmt.Errorf("--evidence %s: bucket %q does not exist: create it first (the evidence-bucket action makes a hardened one)", loc, loc.Host)
	case code == "Forbidden" || code == "AccessDenied" || code == "403":
		return fmt.Errorf("--evidence %s: access to bucket %q is denied: the run needs s3:ListBucket on it (see `firebreak iam-policy PLAYBOOK --evidence %s`)", loc, loc.Host, loc)
	case code == "MovedPermanently" || code == "301" || code == "PermanentRedirect":
		return fmt.Errorf("--evidence %s: bucket %q is in another region than %s: set --region to the bucket's", loc, loc.Host, st.awsClients(ctx).Region(""))
	default:
		return fmt.Errorf("--evidence %s: bucket %q does not answer: %s", loc, loc.Host, shortAWSError(err))
	}
}

// checkDir checks that dir is a directory, or can be made: its nearest
// existing parent is a directory. (One that cannot be written in fails
// when the store opens, before anything is made either.)
func checkDir(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("--evidence %s: %s is not a directory", dir, p)
		case err == nil:
			return nil
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("--evidence %s: %v", dir, err)
		case p == filepath.Dir(p):
			return fmt.Errorf("--evidence %s: no parent directory exists", dir)
		}
	}
}

// checkKeyFiles opens each SSH key file the inputs name: an input called
// key_file (or *_key_file), or one a step feeds into an action's key_file
// parameter. A key that cannot be read would fail its step mid-run, after
// the host was already isolated.
func checkKeyFiles(pb *engine.Playbook, inputs map[string]any) error {
	for _, name := range engine.SortedKeys(keyFileInputs(pb)) {
		path, _ := inputs[name].(string)
		if path == "" {
			continue
		}
		if err := readableFile(path); err != nil {
			return fmt.Errorf("input %q: SSH key file %q: %v", name, path, err)
		}
	}
	return nil
}

// keyFileInputs are the inputs that name an SSH key file.
func keyFileInputs(pb *engine.Playbook) map[string]bool {
	names := map[string]bool{}
	for _, in := range pb.Inputs {
		if in.Name == "key_file" || strings.HasSuffix(in.Name, "_key_file") {
			names[in.Name] = true
		}
	}
	for _, s := range pb.AllSteps() {
		v, ok := s.With["key_file"]
		if !ok || v == nil {
			continue
		}
		for _, e := range v.Exprs() {
			for _, in := range e.Inputs {
				names[in] = true
			}
		}
	}
	return names
}

func readableFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}

// credentialsError is why the SDK found no credentials, without the
// chain of every provider it tried.
func credentialsError(err error) string {
	msg := strings.TrimPrefix(firstLine(err.Error()), "failed to refresh cached credentials, ")
	msg, _, _ = strings.Cut(msg, ", operation error")
	return msg
}

// shortAWSError is the last, most specific part of an SDK error chain on
// one line: of "operation error STS: GetCallerIdentity, https response
// error StatusCode: 403, ..., api error InvalidClientTokenId: ..." the api
// error, of a call that never got an answer the network's reason.
func shortAWSError(err error) string {
	msg := firstLine(err.Error())
	for _, mark := range []string{"api error ", "request send failed, "} {
		if i := strings.LastIndex(msg, mark); i >= 0 {
			return msg[i+len(mark):]
		}
	}
	return msg
}
