package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// The attacks of a hostile case folder, batch or targets file, each
// performed through the binary as a responder would meet them.

// runDirs counts the run dirs in the sandbox's state dir.
func (s *sandbox) runDirs() int {
	entries, _ := os.ReadDir(filepath.Join(s.state, "runs"))
	return len(entries)
}

// TestRunCaseNeverRewritesACase: run --case on an existing case is refused
// with a clear error (exit 2), whatever key it is given, records no run,
// and leaves the signed manifest as it was.
func TestRunCaseNeverRewritesACase(t *testing.T) {
	s := newSandbox(t)
	key, other := filepath.Join(s.dir, "k.pem"), filepath.Join(s.dir, "other.pem")
	for _, k := range []string{key, other} {
		if _, err := evidence.GenerateEd25519Key(k); err != nil {
			t.Fatal(err)
		}
	}
	r := s.run("run", "local-check", "--case", "cr-first", "--sign-key", key).want(t, 0)
	mpath := r.manifestPath(t)
	before, _ := os.ReadFile(mpath)
	runs := s.runDirs()
	for _, args := range [][]string{{}, {"--sign-key", key}, {"--sign-key", other}} {
		r := s.run(append([]string{"run", "local-check", "--case", "cr-first"}, args...)...).want(t, 2)
		contains(t, "run --case on an existing case", r.stderr, `case "cr-first" exists already`, "firebreak resume run-")
	}
	if after, _ := os.ReadFile(mpath); !bytes.Equal(after, before) {
		t.Fatal("the manifest was rewritten")
	}
	if n := s.runDirs(); n != runs {
		t.Errorf("refused runs left %d run dir(s)", n-runs)
	}
	s.run("verify", mpath, "--pub", key, "--require-signature").want(t, 0)
}

// TestTargetsGetDistinctCases: lines x, x and x-2 get three cases, and
// targets with a case id they cannot have, or terminal escapes, are
// refused up front or printed escaped.
func TestTargetsGetDistinctCases(t *testing.T) {
	s := newSandbox(t)
	targets := filepath.Join(s.dir, "t.txt")
	writeFile(t, targets, []byte("x\nx\nx-2\nX\n"))
	s.run("run", "local-check", "--targets", targets, "--case", "b").want(t, 0)
	seen := map[string]string{}
	for _, id := range []string{"x", "x-3", "x-2", "X-4"} {
		m := readManifest(t, filepath.Join(s.dir, "evidence", "b", id, "manifest.json"))
		if m.CaseID != id || seen[m.RunID] != "" {
			t.Errorf("case %s: id %q run %q (seen for %q)", id, m.CaseID, m.RunID, seen[m.RunID])
		}
		seen[m.RunID] = id
	}

	writeFile(t, targets, []byte("fine\n-dash\n"))
	r := s.run("run", "local-check", "--targets", targets, "--case", "b2").want(t, 2)
	contains(t, "a target that cannot name its case", r.stderr, targets+`:2:1: target "-dash" cannot name its case`)
	if _, err := os.Stat(filepath.Join(s.dir, "evidence", "b2")); err == nil {
		t.Error("the batch started before its bad line was found")
	}

	writeFile(t, targets, []byte("ok\x1b]0;owned\x07\n"))
	r = s.run("run", "local-check", "--targets", targets, "--case", "b3").want(t, 0)
	if strings.ContainsAny(r.stderr+r.stdout, "\x1b\x07") {
		t.Errorf("a target's escape sequence reached the terminal:\n%q", r.stderr)
	}
	contains(t, "escaped target", r.stderr, `ok\x1b]0;owned\x07`)
}

// TestBatchVerifyMissesNothing: the batch record lists every case; verify
// of the batch fails, naming it, for a case whose manifest or folder is
// gone, for a folder the record does not list, and for an edited record;
// a batch is never run again into the same folder.
func TestBatchVerifyMissesNothing(t *testing.T) {
	s := newSandbox(t)
	key := filepath.Join(s.dir, "k.pem")
	if _, err := evidence.GenerateEd25519Key(key); err != nil {
		t.Fatal(err)
	}
	targets := filepath.Join(s.dir, "t.txt")
	writeFile(t, targets, []byte("alpha\nbeta\ngamma\n"))
	s.run("run", "local-check", "--targets", targets, "--case", "batch1", "--sign-key", key).want(t, 0)
	batch := filepath.Join(s.dir, "evidence", "batch1")
	var rec evidence.Batch
	raw, _ := os.ReadFile(filepath.Join(batch, "batch.json"))
	if err := json.Unmarshal(raw, &rec); err != nil || len(rec.Cases) != 3 || rec.Signature == nil {
		t.Fatalf("batch record: %v %+v", err, rec)
	}
	v := s.run("verify", batch, "--pub", key, "--require-signature").want(t, 0)
	contains(t, "verify batch", v.stdout, "batch batch1: 3 case(s) in its record", "batch: 3 case(s) verified, 0 failed")
	s.run("run", "local-check", "--targets", targets, "--case", "batch1").want(t, 2)

	tests := []struct {
		name   string
		attack func(t *testing.T)
		want   []string
	}{
		{"manifest removed", func(t *testing.T) { os.Remove(filepath.Join(batch, "beta", "manifest.json")) },
			[]string{"case beta (target beta): FAILED: it has a custody log but no manifest"}},
		{"case folder removed", func(t *testing.T) { os.RemoveAll(filepath.Join(batch, "gamma")) },
			[]string{"case gamma (target gamma): FAILED: it is missing"}},
		{"a folder the record does not list", func(t *testing.T) {
			os.MkdirAll(filepath.Join(batch, "zeta"), 0o700)
			writeFile(t, filepath.Join(batch, "zeta", "custody.jsonl"), []byte("{}\n"))
		}, []string{"MISMATCH: folder zeta holds a case the batch record does not list"}},
		{"a case dropped from the record", func(t *testing.T) {
			writeFile(t, filepath.Join(batch, "batch.json"), bytes.Replace(raw, []byte(`"gamma"`), []byte(`"gamm"`), -1))
		}, []string{"MISMATCH: signature does not match the batch record", "case gamm (target gamm): FAILED: it is missing", "folder gamma holds a case the batch record does not list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := filepath.Join(s.dir, "saved")
			if err := os.Rename(batch, saved); err != nil {
				t.Fatal(err)
			}
			copyTree(t, saved, batch)
			defer func() { os.RemoveAll(batch); os.Rename(saved, batch) }()
			tt.attack(t)
			v := s.run("verify", batch, "--pub", key).want(t, 1)
			contains(t, "verify of the attacked batch", v.stdout, tt.want...)
		})
	}
}

// copyTree copies a folder of regular files.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyCannotBeHungOrFaked: a pipe among the artifacts ends verify at
// once with a named mismatch; a manifest whose strings hold terminal
// escapes and newlines cannot print a line of its own.
func TestVerifyCannotBeHungOrFaked(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "local-check").want(t, 0)
	mpath := r.manifestPath(t)
	caseDir := filepath.Dir(mpath)
	m := readManifest(t, mpath)
	a, path := nonEmptyArtifact(t, m)
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	v := s.run("verify", caseDir).want(t, 1)
	if took := time.Since(start); took > time.Minute {
		t.Errorf("verify took %v with a pipe in the case", took)
	}
	contains(t, "verify with a pipe", v.stdout, "MISMATCH: artifact "+a.ID+": cannot read it: ", "is a named pipe, not a regular file")
	os.Remove(path)

	hostile := "\nOK: every artifact matches\x1b[1A\x1b[2K\r"
	var doc map[string]any
	raw, _ := os.ReadFile(mpath)
	json.Unmarshal(raw, &doc)
	doc["artifacts"].([]any)[0].(map[string]any)["id"] = "artifacts/" + hostile
	doc["signature"] = map[string]any{"algorithm": "ed25519" + hostile, "key_id": hostile, "value": ""}
	raw, _ = json.Marshal(doc)
	writeFile(t, mpath, raw)
	v = s.run("verify", caseDir).want(t, 1)
	if strings.ContainsAny(v.stdout+v.stderr, "\x1b\r") {
		t.Errorf("verify printed a control character from the case:\n%q", v.stdout)
	}
	for _, line := range strings.Split(v.stdout, "\n") {
		if strings.HasPrefix(line, "OK") {
			t.Errorf("the case printed a line of its own: %q", line)
		}
	}
	contains(t, "escaped", v.stdout, `\nOK: every artifact matches\x1b[1A\x1b[2K\r`, "FAILED")
}

// TestSIGTERMStopsVerify: a verify re-hashing a large artifact stops on
// SIGTERM, exit 3, without concluding.
func TestSIGTERMStopsVerify(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "local-check").want(t, 0)
	mpath := r.manifestPath(t)
	m := readManifest(t, mpath)
	_, path := nonEmptyArtifact(t, m)
	if err := os.Truncate(path, 1<<40); err != nil { // sparse: a terabyte to hash
		t.Skipf("no sparse file here: %v", err)
	}
	defer os.Truncate(path, 0)
	cmd := s.command("verify", filepath.Dir(mpath))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let it start hashing; a later signal only proves more
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitOf(t, err); code != 3 {
			t.Fatalf("verify after SIGTERM: exit %d, want 3\n%s%s", code, out.String(), errb.String())
		}
		contains(t, "verify after SIGTERM", errb.String(), "interrupted: nothing was concluded")
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("verify still runs a minute after SIGTERM")
	}
}

// TestVerifyAgainstCustodyAndSignature: an unsigned manifest edited alone
// is caught against custody; an intact unsigned case passes with a
// warning, and fails with --require-signature.
func TestVerifyAgainstCustodyAndSignature(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "fails").want(t, 1)
	mpath := r.manifestPath(t)
	v := s.run("verify", mpath).want(t, 0)
	contains(t, "unsigned", v.stdout, "WARNING: the manifest is not signed")
	v = s.run("verify", mpath, "--require-signature").want(t, 1)
	contains(t, "--require-signature", v.stdout, "FAILED (--require-signature)")

	var doc map[string]any
	raw, _ := os.ReadFile(mpath)
	json.Unmarshal(raw, &doc)
	doc["status"] = "succeeded"
	for _, st := range doc["steps"].([]any) {
		st.(map[string]any)["status"] = "succeeded"
		delete(st.(map[string]any), "error")
	}
	raw, _ = json.Marshal(doc)
	writeFile(t, mpath, raw)
	v = s.run("verify", mpath).want(t, 1)
	contains(t, "a failed run made succeeded", v.stdout, `manifest status is "succeeded", but custody line`, `recorded "failed"`, ": manifest status is \"succeeded\", but custody line")
}

// TestVerifyHandOff: a case folder copied under another name verifies,
// naming the folder; a --pub key that is not the signer's is said so.
func TestVerifyHandOff(t *testing.T) {
	s := newSandbox(t)
	key, other := filepath.Join(s.dir, "k.pem"), filepath.Join(s.dir, "other.pem")
	for _, k := range []string{key, other} {
		if _, err := evidence.GenerateEd25519Key(k); err != nil {
			t.Fatal(err)
		}
	}
	r := s.run("run", "local-check", "--sign-key", key).want(t, 0)
	from := filepath.Dir(r.manifestPath(t))
	to := filepath.Join(s.dir, "for-counsel", "case-17")
	copyTree(t, from, to)
	v := s.run("verify", to, "--pub", key).want(t, 0)
	contains(t, "renamed case", v.stdout, "(in folder case-17: copied or renamed", "OK: ")
	v = s.run("verify", to, "--pub", other).want(t, 1)
	contains(t, "another key", v.stdout, "signed by another key (fingerprint ", "not the one given")
	if strings.Contains(v.stdout, "changed since") {
		t.Errorf("a key mismatch was called a change:\n%s", v.stdout)
	}
}
