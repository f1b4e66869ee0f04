package evidence

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// verifyWithin runs Verify and fails the test if it has not returned in
// 20 seconds: a case that can hang its verifier is the attack here.
func verifyWithin(t *testing.T, store Store, folder string) (*Report, error) {
	t.Helper()
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Verify(context.Background(), store, folder, nil)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("Verify still runs after 20s")
	}
	return nil, nil
}

// TestVerifyHostileFiles: an artifact replaced by a pipe, a device, a link
// out of the case or a link to a folder is a mismatch named for it, found
// at once, and the artifact after it is still checked.
func TestVerifyHostileFiles(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "outside.json")
	os.WriteFile(outside, []byte(`{"InstanceId":"i-0abc12345678"}`), 0o600)
	tests := []struct {
		name  string
		plant func(t *testing.T, path string) error
		want  string
	}{
		{"pipe", func(_ *testing.T, p string) error { return syscall.Mkfifo(p, 0o600) }, "artifacts/gather/instance.json is a named pipe, not a regular file"},
		{"device", func(_ *testing.T, p string) error { return os.Symlink("/dev/zero", p) }, "artifacts/gather/instance.json is a symbolic link, not a regular file"},
		{"link out of the case", func(_ *testing.T, p string) error { return os.Symlink(outside, p) }, "artifacts/gather/instance.json is a symbolic link, not a regular file"},
		{"link to a sibling", func(t *testing.T, p string) error {
			os.WriteFile(p+".real", []byte(`{"InstanceId":"i-0abc12345678"}`), 0o600)
			return os.Symlink(filepath.Base(p)+".real", p)
		}, "artifacts/gather/instance.json is a symbolic link, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, _ := NewDirStore(t.TempDir())
			buildCase(t, store, "cr-h", nil)
			p := filepath.Join(store.Root(), "cr-h", "artifacts", "gather", "instance.json")
			os.Remove(p)
			if err := tt.plant(t, p); err != nil {
				t.Fatal(err)
			}
			rep, err := verifyWithin(t, store, "cr-h")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], "artifact artifacts/gather/instance.json: cannot read it: ") ||
				!strings.Contains(rep.Problems[0], tt.want) {
				t.Fatalf("problems %q, want the artifact named: %s", rep.Problems, tt.want)
			}
			if !slices.Contains(rep.Checked, "artifacts/gather/console.txt") {
				t.Errorf("checked %q: the artifact after it was not checked", rep.Checked)
			}
			if !rep.Changed() {
				t.Error("Changed() is false")
			}
		})
	}
}

// TestVerifyHostileFolderAndLog: a folder of artifacts replaced by a link
// to another case's, and a custody log or segment that is a pipe, are
// named mismatches found at once; a pipe as the manifest is an error.
func TestVerifyHostileFolderAndLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		plant func(t *testing.T, dir string)
		want  string
	}{
		{"artifacts folder a link to another case's", func(t *testing.T, dir string) {
			other := filepath.Join(filepath.Dir(dir), "cr-other", "artifacts", "gather")
			os.MkdirAll(filepath.Dir(other), 0o700)
			os.Rename(filepath.Join(dir, "artifacts", "gather"), other)
			os.Symlink(filepath.Join("..", "..", "cr-other", "artifacts", "gather"), filepath.Join(dir, "artifacts", "gather"))
		}, "artifact artifacts/gather/instance.json: cannot read it: cr-h/artifacts/gather is a symbolic link"},
		{"custody log a pipe", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "custody.jsonl"))
			syscall.Mkfifo(filepath.Join(dir, "custody.jsonl"), 0o600)
		}, "cr-h/custody.jsonl is a named pipe, not a regular file"},
		{"custody segment a pipe", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "custody.d"), 0o700)
			syscall.Mkfifo(filepath.Join(dir, "custody.d", "000001.jsonl"), 0o600)
		}, "cr-h/custody.d/000001.jsonl is a named pipe, not a regular file"},
		{"pipe planted among the artifacts", func(t *testing.T, dir string) {
			syscall.Mkfifo(filepath.Join(dir, "artifacts", "gather", "extra.bin"), 0o600)
		}, "artifacts/gather/extra.bin is a named pipe in the case folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, _ := NewDirStore(t.TempDir())
			buildCase(t, store, "cr-h", nil)
			tt.plant(t, filepath.Join(store.Root(), "cr-h"))
			rep, err := verifyWithin(t, store, "cr-h")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Fatalf("problems %q, want one saying %q", rep.Problems, tt.want)
			}
		})
	}
	t.Run("manifest a pipe", func(t *testing.T) {
		t.Parallel()
		store, _ := NewDirStore(t.TempDir())
		os.MkdirAll(filepath.Join(store.Root(), "cr-p"), 0o700)
		syscall.Mkfifo(filepath.Join(store.Root(), "cr-p", "manifest.json"), 0o600)
		if _, err := verifyWithin(t, store, "cr-p"); err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("got %v, want an error naming the pipe", err)
		}
	})
	t.Run("file sink a pipe", func(t *testing.T) {
		t.Parallel()
		store, _ := NewDirStore(t.TempDir())
		sink := filepath.Join(t.TempDir(), "mem.lime")
		syscall.Mkfifo(sink, 0o600)
		buildCase(t, store, "cr-s", nil)
		editManifest(t, filepath.Join(store.Root(), "cr-s"), func(m map[string]any) {
			m["artifacts"] = append(m["artifacts"].([]any), map[string]any{"id": "recorded/memory/lime", "uri": "file://" + sink, "sha256": strings.Repeat("0", 64), "size": 1})
		})
		rep, err := verifyWithin(t, store, "cr-s")
		if err != nil || !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, "mem.lime is a named pipe") }) {
			t.Fatalf("got %v %q, want the sink named as a pipe", err, rep.Problems)
		}
	})
}

// TestVerifyReportsUnrecordedFiles: a regular file planted in the case is
// told, as not recorded by it; the case's own files are not.
func TestVerifyReportsUnrecordedFiles(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	buildCase(t, store, "cr-x", nil)
	os.WriteFile(filepath.Join(store.Root(), "cr-x", "artifacts", "gather", "planted.json"), []byte("{}"), 0o600)
	os.MkdirAll(filepath.Join(store.Root(), "cr-x", "artifacts", "memory"), 0o700)
	os.WriteFile(filepath.Join(store.Root(), "cr-x", "artifacts", "memory", "real.lime"), []byte("mem"), 0o600)
	rep, err := Verify(context.Background(), store, "cr-x", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"artifacts/gather/planted.json (2 bytes)", "artifacts/memory/real.lime (3 bytes)"}
	if !slices.Equal(rep.Unrecorded, want) || !rep.OK() {
		t.Fatalf("unrecorded %q problems %q; want %q and no problem", rep.Unrecorded, rep.Problems, want)
	}
}

// TestVerifyEscapesWhatTheCaseSays: ids, URIs, key ids and algorithm names
// that hold control characters reach the report escaped, so a manifest
// cannot print a line of its own ("OK: ...") or move the cursor.
func TestVerifyEscapesWhatTheCaseSays(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	buildCase(t, store, "cr-e", nil)
	hostile := "x\nOK: every artifact matches\x1b[2K\r\u202e"
	editManifest(t, filepath.Join(store.Root(), "cr-e"), func(m map[string]any) {
		a := m["artifacts"].([]any)
		a[0].(map[string]any)["id"] = "artifacts/" + hostile
		a[2].(map[string]any)["kind"] = hostile
		a = append(a, map[string]any{"id": hostile, "uri": "s3://b/" + hostile, "sha256": hostile})
		m["artifacts"] = a
		m["signature"] = map[string]any{"algorithm": hostile, "key_id": hostile, "value": "x"}
		m["status"] = hostile
	})
	rep, err := Verify(context.Background(), store, "cr-e", nil)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append(append(slices.Clone(rep.Problems), rep.Checked...), rep.NotRehashable...), rep.Signature)
	raw, _ := json.Marshal(all)
	for _, s := range all {
		if s != Printable(s) {
			t.Fatalf("report line %q holds a control character (all: %s)", s, raw)
		}
	}
	if !strings.Contains(string(raw), `x\\nOK: every artifact matches\\x1b[2K\\r\\u202e`) {
		t.Fatalf("the hostile value is not in the report, escaped: %s", raw)
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain ascii / ünïcödé", "plain ascii / ünïcödé"},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x1b[31mred\x07", `\x1b[31mred\x07`},
		{"\x7f\u0085", `\x7f\u0085`},
		{"rtl\u202eoverride\u200b\u2028", `rtl\u202eoverride\u200b\u2028`},
		{"bad\xffutf8", `bad\xffutf8`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRenamedCaseVerifies: a case folder copied under another name
// verifies; the report names the folder, and it is no problem.
func TestRenamedCaseVerifies(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	buildCase(t, store, "cr-orig", signer)
	if err := os.Rename(filepath.Join(store.Root(), "cr-orig"), filepath.Join(store.Root(), "for-counsel")); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), store, "for-counsel", pub)
	if err != nil || !rep.OK() || rep.CaseID != "cr-orig" || rep.Folder != "for-counsel" || len(rep.Checked) != 2 {
		t.Fatalf("Verify of a renamed case: %v %+v", err, rep)
	}
}
