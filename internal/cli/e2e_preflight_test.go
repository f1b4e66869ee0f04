package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// refused checks a refused run: exit 2, one line on stderr holding want,
// and nothing made: no state dir (no run dir, no journal) and no evidence
// dir (no case).
func (s *sandbox) refused(t *testing.T, want string, args ...string) {
	t.Helper()
	r := s.run(args...).want(t, 2)
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "firebreak: ") || !strings.Contains(r.stderr, want) {
		t.Errorf("%v: want one line holding %q, got:\n%s", args, want, r.stderr)
	}
	for _, dir := range []string{s.state, filepath.Join(s.dir, "evidence")} {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%v: a refused run made %s", args, dir)
		}
	}
}

// TestPreflightRefusesBeforeAnythingIsMade: what a run needs is checked
// before a case, a run dir or a journal exists.
func TestPreflightRefusesBeforeAnythingIsMade(t *testing.T) {
	s := newSandbox(t)
	file := filepath.Join(s.dir, "a-file")
	writeFile(t, file, []byte("x"))
	keyDir := filepath.Join(s.dir, "keys")
	if err := os.Mkdir(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no region", nil, []string{"run", "host-compromise", "-i", "instance_id=i-0abc1234"},
			`firebreak: playbook "host-compromise" calls AWS, but AWS is not set up: no AWS region: set --region or AWS_REGION`},
		{"no credentials", []string{"AWS_REGION=us-east-1"}, []string{"run", "host-compromise", "-i", "instance_id=i-0abc1234"},
			`firebreak: playbook "host-compromise" calls AWS, but no AWS credentials could be found (environment, --profile, shared files, SSO, instance role)`},
		{"AWS does not answer", []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_ENDPOINT_URL=http://127.0.0.1:1"},
			[]string{"run", "host-compromise", "-i", "instance_id=i-0abc1234"},
			`firebreak: playbook "host-compromise" calls AWS, but AWS does not answer (sts:GetCallerIdentity): Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"S3 evidence without AWS", nil, []string{"run", "local-check", "--evidence", "s3://evidence/cases"},
			"firebreak: the evidence goes to S3, but AWS is not set up: no AWS region"},
		{"malformed S3 location", nil, []string{"run", "local-check", "--evidence", "s3:/evidence"},
			`firebreak: --evidence: location "s3:/evidence": want s3://BUCKET`},
		{"evidence under a file", nil, []string{"run", "local-check", "--evidence", filepath.Join(file, "evidence")},
			"not a directory"},
		{"missing key file", nil, []string{"run", "reads-key", "-i", "ssh_key_file=/nonexistent/id_ed25519"},
			`firebreak: input "ssh_key_file": SSH key file "/nonexistent/id_ed25519": no such file or directory`},
		{"key file is a directory", nil, []string{"run", "reads-key", "-i", "ssh_key_file=" + keyDir},
			`firebreak: input "ssh_key_file": SSH key file "` + keyDir + `": not a regular file`},
		{"missing signing key", nil, []string{"run", "local-check", "--sign-key", "/nonexistent/sign.pem"},
			`firebreak: --sign-key "/nonexistent/sign.pem"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := s.env
			s.env = append(append([]string(nil), s.env...), tt.env...)
			defer func() { s.env = env }()
			s.refused(t, tt.want, tt.args...)
		})
	}
	// With --targets, every target's key is checked before the first run.
	targets := filepath.Join(s.dir, "t.txt")
	writeFile(t, targets, []byte("a\nb\n"))
	s.refused(t, `SSH key file "/nonexistent/id": no such file or directory`,
		"run", "reads-key", "--targets", targets, "-i", "ssh_key_file=/nonexistent/id")
	// A key that is there passes.
	key := filepath.Join(keyDir, "id_ed25519")
	writeFile(t, key, []byte("not checked beyond being readable"))
	s.run("run", "reads-key", "-i", "ssh_key_file="+key).want(t, 0)
}

// TestPreflightEvidenceBucket: an S3 evidence location must name a bucket
// that exists; a missing one is refused before anything is written.
func TestPreflightEvidenceBucket(t *testing.T) {
	s, m := awsSandbox(t)
	s.refused(t, `firebreak: --evidence s3://no-such-bucket/cases: bucket "no-such-bucket" does not exist`,
		"run", "local-check", "--evidence", "s3://no-such-bucket/cases")
	api := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	out, err := api.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 0 {
		t.Errorf("the refused run made %d bucket(s)", len(out.Buckets))
	}
}
