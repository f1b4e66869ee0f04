package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestVerifyNamesEachTampering(t *testing.T) {
	t.Parallel()
	type env struct {
		dir string // the case dir
		m   *Manifest
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, e env) []string // returns the problems wanted
		pub    bool                               // verify with the signer's key
	}{
		{"clean", func(t *testing.T, e env) []string { return nil }, true},
		{"artifact byte flipped", func(t *testing.T, e env) []string {
			p := filepath.Join(e.dir, "artifacts/gather/instance.json")
			data, _ := os.ReadFile(p)
			data[5] ^= 0x20
			os.WriteFile(p, data, 0o600)
			return []string{"artifact artifacts/gather/instance.json: sha256 mismatch: manifest " + e.m.Artifacts[0].SHA256 + ", file " + fileSHA(t, p)}
		}, true},
		{"artifact grown", func(t *testing.T, e env) []string {
			p := filepath.Join(e.dir, "artifacts/gather/console.txt")
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("x")
			f.Close()
			return []string{
				"artifact artifacts/gather/console.txt: size mismatch: manifest 9, file 10",
				"artifact artifacts/gather/console.txt: sha256 mismatch: manifest " + e.m.Artifacts[1].SHA256 + ", file " + fileSHA(t, p),
			}
		}, true},
		{"artifact missing", func(t *testing.T, e env) []string {
			os.Remove(filepath.Join(e.dir, "artifacts/gather/console.txt"))
			return []string{"artifact artifacts/gather/console.txt missing: " + e.m.Artifacts[1].URI}
		}, true},
		{"custody line edited", func(t *testing.T, e env) []string {
			editLines(t, filepath.Join(e.dir, "custody.jsonl"), func(l []string) []string {
				l[4] = strings.Replace(l[4], `"sg-1"`, `"sg-2"`, 1)
				return l
			})
			return []string{"custody line 6: prev hash does not match line 5"}
		}, true},
		{"last custody line edited", func(t *testing.T, e env) []string {
			editLines(t, filepath.Join(e.dir, "custody.jsonl"), func(l []string) []string {
				l[5] = strings.Replace(l[5], `"succeeded"`, `"failed"`, 1)
				return l
			})
			return []string{"custody head " + lineHashOf(t, e.dir, 6) + " does not match the manifest's " + e.m.Custody.Head +
				": the last line was changed, or lines were added or removed",
				`manifest status is "succeeded", but custody line 6 (case.finished) recorded "failed"`}
		}, true},
		{"custody line deleted", func(t *testing.T, e env) []string {
			editLines(t, filepath.Join(e.dir, "custody.jsonl"), func(l []string) []string { return append(l[:4], l[5:]...) })
			return []string{
				"custody line 5: seq 6 follows seq 4 (a line is missing or out of order)",
				"custody line 5: prev hash does not match line 4",
				"custody log has 5 lines, manifest says 6",
			}
		}, true},
		{"custody lines swapped", func(t *testing.T, e env) []string {
			editLines(t, filepath.Join(e.dir, "custody.jsonl"), func(l []string) []string {
				l[1], l[2] = l[2], l[1]
				return l
			})
			return []string{
				"custody line 2: seq 3 follows seq 1 (a line is missing or out of order)",
				"custody line 2: prev hash does not match line 1",
				"custody line 3: seq 2 follows seq 3 (a line is missing or out of order)",
				"custody line 3: prev hash does not match line 2",
				"custody line 4: prev hash does not match line 3",
			}
		}, true},
		{"artifact dropped from custody", func(t *testing.T, e env) []string {
			// Rebuild a consistent chain without the console.txt line: only the
			// manifest cross-check and the head can tell.
			p := filepath.Join(e.dir, "custody.jsonl")
			editLines(t, p, func(l []string) []string { return rechain(t, append(l[:2], l[3:]...)) })
			return []string{
				"custody log has 5 lines, manifest says 6",
				"custody head " + lineHashOf(t, e.dir, 5) + " does not match the manifest's " + e.m.Custody.Head +
					": the last line was changed, or lines were added or removed",
				"artifact artifacts/gather/console.txt: not in the custody log",
			}
		}, true},
		{"manifest edited after signing", func(t *testing.T, e env) []string {
			editManifest(t, e.dir, func(m map[string]any) { m["status"] = "failed" })
			return []string{
				"signature does not match the manifest: it was changed after signing",
				`manifest status is "failed", but custody line 6 (case.finished) recorded "succeeded"`,
				"manifest.json is not the manifest its run wrote: its digest differs from the one custody line 6 (case.finished) recorded",
			}
		}, false},
		{"signed by another key", func(t *testing.T, e env) []string {
			other, _ := testSigner(t)
			editManifest(t, e.dir, func(m map[string]any) {
				var mm Manifest
				raw, _ := json.Marshal(m)
				json.Unmarshal(raw, &mm)
				mm.Signature = nil
				msg, _ := canonicalJSON(&mm)
				sig, _ := other.Sign(msg)
				m["signature"] = sig
			})
			return []string{"signed by another key (fingerprint " + Fingerprint(other.Public()) + "), not the one given (fingerprint " + e.m.Signature.KeyID + ")"}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, _ := NewDirStore(t.TempDir())
			signer, pub := testSigner(t)
			m := buildCase(t, store, "cr-v", signer)
			e := env{dir: filepath.Join(store.Root(), "cr-v"), m: m}
			want := tt.tamper(t, e)
			key := pub
			if !tt.pub {
				key = nil
			}
			rep, err := Verify(context.Background(), store, "cr-v", key)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Problems, want) {
				t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
			}
			if rep.OK() != (len(want) == 0) {
				t.Fatalf("OK() = %v with %d problems", rep.OK(), len(want))
			}
		})
	}
}

func TestVerifyReportsWhichKeyChecked(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	buildCase(t, store, "cr-k", signer)
	rep, _ := Verify(context.Background(), store, "cr-k", nil)
	if !rep.OK() || !strings.Contains(rep.Signature, "key embedded in the manifest") {
		t.Fatalf("embedded-key verify: %+v", rep)
	}
	rep, _ = Verify(context.Background(), store, "cr-k", pub)
	if !rep.OK() || rep.Signature != "ed25519 "+Fingerprint(pub)+" (given key)" {
		t.Fatalf("given-key verify: %+v", rep)
	}
	buildCase(t, store, "cr-unsigned", nil)
	if rep, _ = Verify(context.Background(), store, "cr-unsigned", pub); rep.OK() || rep.Problems[0] != "manifest is not signed, but a public key was given" {
		t.Fatalf("unsigned with key: %+v", rep)
	}
	if _, err := Verify(context.Background(), store, "cr-none", nil); err == nil || !strings.Contains(err.Error(), "was the run finished?") {
		t.Fatalf("Verify of a missing case: %v", err)
	}
}

func lineHashOf(t *testing.T, dir string, n int) string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(dir, "custody.jsonl"))
	return lineHash([]byte(strings.Split(string(data), "\n")[n-1]))
}

// rechain rewrites seq and prev so the lines form a valid chain, as a
// forger with write access would.
func rechain(t *testing.T, lines []string) []string {
	t.Helper()
	prev := GenesisHash
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatal(err)
		}
		obj["seq"], obj["prev"] = i+1, prev
		raw, _ := json.Marshal(obj)
		lines[i], prev = string(raw), lineHash(raw)
	}
	return lines
}

func editManifest(t *testing.T, dir string, f func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, "manifest.json")
	data, _ := os.ReadFile(p)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, _ := json.MarshalIndent(m, "", "  ")
	os.WriteFile(p, out, 0o600)
}
