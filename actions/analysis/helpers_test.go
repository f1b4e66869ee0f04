package analysis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// samplePath is Debian's forensics-samples-ext4 image: an ext4 file
// system in a DOS partition table (one Linux partition at sector 2048),
// with the directories audio2, movie2, pic2 and text2 deleted.
const samplePath = "/usr/share/forensics-samples/fs.ext4.xz"

// sampleImage decompresses the sample into a temporary directory.
func sampleImage(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(samplePath); err != nil {
		testenv.Missing(t, samplePath+" not found (apt-get install forensics-samples-ext4)")
	}
	xz := testenv.LookPath(t, "xz")
	img := filepath.Join(t.TempDir(), "fs.ext4")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(xz, "-dc", samplePath)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xz -dc %s: %v: %s", samplePath, err, stderr.String())
	}
	return img
}

// requireTools skips (or fails under FIREBREAK_REQUIRE_INTEGRATION=1)
// without the tools.
func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		testenv.LookPath(t, tool)
	}
}

// testCase is a real evidence case in a directory store.
type testCase struct {
	store *evidence.DirStore
	c     *evidence.Case
	id    string
}

func newCase(t *testing.T) *testCase {
	t.Helper()
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := evidence.NewCaseID(time.Now())
	c, err := evidence.OpenCase(testenv.Context(t), store, evidence.Header{CaseID: id, RunID: "run-analysis", StartedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testCase{store: store, c: c, id: id}
}

// run runs a as step step of the case, checks that its outputs are what
// its spec declares, and returns them.
func (tc *testCase) run(t *testing.T, a engine.Action, step string, p engine.Params) (engine.Outputs, error) {
	t.Helper()
	in := &engine.StepInput{RunID: "run-analysis", CaseID: tc.id, StepID: step, Params: p, Attempt: 1, Evidence: tc.c.Evidence(step)}
	out, err := a.Run(testenv.Context(t), in)
	if err == nil {
		declared := map[string]bool{}
		for _, o := range a.Spec().Outputs {
			declared[o.Name] = true
			if _, ok := out[o.Name]; !ok {
				t.Errorf("declared output %q missing", o.Name)
			}
		}
		for k := range out {
			if !declared[k] {
				t.Errorf("output %q not declared in the spec", k)
			}
		}
	}
	return out, err
}

// verify finishes the case and verifies it: every artifact re-hashed.
func (tc *testCase) verify(t *testing.T) *evidence.Report {
	t.Helper()
	ctx := testenv.Context(t)
	if _, err := tc.c.Finish(ctx, engine.RunSucceeded, time.Now()); err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, tc.store, tc.id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("case does not verify: %v", rep.Problems)
	}
	return rep
}

// read returns the stored bytes of the artifact at uri.
func (tc *testCase) read(t *testing.T, uri string) []byte {
	t.Helper()
	path := uri
	if u, ok := bytes.CutPrefix([]byte(uri), []byte("file://")); ok {
		path = string(u)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading artifact %s: %v", uri, err)
	}
	return b
}

func timelineEntries(t *testing.T, b []byte) []TimelineEntry {
	t.Helper()
	var out []TimelineEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e TimelineEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("timeline line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// sshTarget is a loopback sshd and the parameters that reach it with its
// host key pinned.
func sshTarget(t *testing.T) engine.Params {
	t.Helper()
	s := testenv.StartSSHD(t)
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	return engine.Params{"host": s.Host, "port": s.Port, "user": s.User, "key_file": s.ClientKey,
		"host_key": ssh.FingerprintSHA256(pub), "sudo": false}
}

func merge(a, b engine.Params) engine.Params {
	out := engine.Params{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func readJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
}
