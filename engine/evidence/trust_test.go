package evidence

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestVerifyTrustsOnlyAGivenKey: a forger who strips the signature, or
// re-signs with their own key embedded, after rebuilding the chain, gets
// an OK report without --pub (integrity since signing only), but never a
// trusted one; with the signer's key both are problems.
func TestVerifyTrustsOnlyAGivenKey(t *testing.T) {
	t.Parallel()
	attacker, _ := testSigner(t)
	tests := []struct {
		name        string
		forge       func(m map[string]any)
		pub         bool
		wantTrusted bool
		want        []string
	}{
		{"untouched, signer's key", nil, true, true, nil},
		{"untouched, embedded key", nil, false, false, nil},
		{"signature stripped, no key", func(m map[string]any) { delete(m, "signature") }, false, false, nil},
		{"signature stripped, signer's key", func(m map[string]any) { delete(m, "signature") }, true, false,
			[]string{"manifest is not signed, but a public key was given"}},
		{"re-signed by an attacker, no key", resign(t, attacker), false, false, nil},
		{"re-signed by an attacker, signer's key", resign(t, attacker), true, false, []string{
			"signed by another key (fingerprint " + Fingerprint(attacker.Public()) + "), not the one given (fingerprint %s)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, _ := NewDirStore(t.TempDir())
			signer, pub := testSigner(t)
			buildCase(t, store, "cr-t", signer)
			if tt.forge != nil {
				editManifest(t, filepath.Join(store.Root(), "cr-t"), func(m map[string]any) {
					m["status"] = "succeeded" // the forger's edit
					tt.forge(m)
				})
			}
			key := pub
			if !tt.pub {
				key = nil
			}
			rep, err := Verify(context.Background(), store, "cr-t", key)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			for i := range want {
				want[i] = strings.Replace(want[i], "%s", Fingerprint(pub), 1)
			}
			if !slices.Equal(rep.Problems, want) || rep.Trusted != tt.wantTrusted {
				t.Fatalf("got problems %q trusted %v\nwant problems %q trusted %v", rep.Problems, rep.Trusted, want, tt.wantTrusted)
			}
		})
	}
}

// resign re-signs the manifest with s, embedding s's public key.
func resign(t *testing.T, s *Ed25519Signer) func(map[string]any) {
	return func(m map[string]any) {
		delete(m, "signature")
		raw, _ := json.Marshal(m)
		msg, err := canonicalize(raw)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := s.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		m["signature"] = sig
	}
}

// TestUnsignedArtifactAndManifestEditedTogether: in an unsigned case a
// forger who changes an artifact's bytes and its manifest hash and size to
// match passes the re-hash; only the custody line (its hash is chained)
// still holds the original, and that cross-check must say so.
func TestUnsignedArtifactAndManifestEditedTogether(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	m := buildCase(t, store, "cr-u", nil)
	dir := filepath.Join(store.Root(), "cr-u")
	forged := []byte(`{"InstanceId":"i-0fffffffffffff"}`)
	if err := os.WriteFile(filepath.Join(dir, "artifacts/gather/instance.json"), forged, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := fileSHA(t, filepath.Join(dir, "artifacts/gather/instance.json"))
	editManifest(t, dir, func(mm map[string]any) {
		a := mm["artifacts"].([]any)[0].(map[string]any)
		a["sha256"], a["size"] = sum, len(forged)
	})
	rep, err := Verify(context.Background(), store, "cr-u", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"manifest.json is not the manifest its run wrote: its digest differs from the one custody line 6 (case.finished) recorded",
		"artifact artifacts/gather/instance.json: manifest (sha256 " + sum + ", size " + strconv.Itoa(len(forged)) + ") differs from the custody log (sha256 " +
			m.Artifacts[0].SHA256 + ", size 31)",
	}
	if !slices.Equal(rep.Problems, want) {
		t.Fatalf("problems:\n got  %q\n want %q", rep.Problems, want)
	}
}
