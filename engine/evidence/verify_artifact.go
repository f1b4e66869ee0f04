package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// verifyArtifact re-hashes a, streaming: from store when it lies there,
// from the local file when it is a file:// URI elsewhere (a memory image
// sink). An artifact the case stored itself is read from folder/ID in the
// store given, wherever its URI says it was: a case copied or moved (to
// a lawyer, an archive) verifies where it is now. Whatever goes wrong
// with one artifact is a problem named for it, and the next is checked;
// only a cancelled ctx ends the check (its error). It returns the
// artifact's key in store, "" when it lies elsewhere.
func verifyArtifact(ctx context.Context, rep *Report, store Store, folder string, a engine.Artifact, stored bool, openURI func(context.Context, string) (io.ReadCloser, error)) (string, error) {
	key, inStore := artifactKey(store, folder, a, stored)
	if a.SHA256 == "" {
		rep.NotRehashable = append(rep.NotRehashable, Printable(fmt.Sprintf("artifact %s (%s): no hash recorded (%s)", a.ID, orNone(a.Kind), describeSource(a))))
		return key, nil
	}
	rc, err := openArtifact(ctx, store, key, inStore, a, openURI)
	switch {
	case ctx.Err() != nil:
		return key, ctx.Err()
	case rc == nil && err == nil:
		// Every artifact with a hash is re-read. One that cannot be is
		// not a pass.
		rep.problem("artifact %s: held at %s, which this verifier cannot read: its sha256 was not checked", a.ID, a.URI)
		return key, nil
	case isNotExist(err):
		rep.problem("artifact %s missing: %s", a.ID, a.URI)
		return key, nil
	case err != nil:
		rep.problem("artifact %s: cannot read it: %v", a.ID, err)
		return key, nil
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, rc})
	if ctx.Err() != nil {
		return key, ctx.Err()
	}
	if err != nil {
		rep.problem("artifact %s: reading it: %v", a.ID, err)
		return key, nil
	}
	before := len(rep.Problems)
	if n != a.Size {
		rep.problem("artifact %s: size mismatch: manifest %d, file %d", a.ID, a.Size, n)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		rep.problem("artifact %s: sha256 mismatch: manifest %s, file %s", a.ID, a.SHA256, got)
	}
	if inStore {
		checkVersion(ctx, rep, store, key, a)
	}
	if len(rep.Problems) == before {
		rep.Checked = append(rep.Checked, Printable(a.ID))
	}
	return key, nil
}

// openArtifact opens a's bytes; (nil, nil) means nothing here can read
// its URI (a URI of another store and no opener, or not a URI at all).
func openArtifact(ctx context.Context, store Store, key string, inStore bool, a engine.Artifact, openURI func(context.Context, string) (io.ReadCloser, error)) (io.ReadCloser, error) {
	if inStore {
		return store.Open(ctx, key)
	}
	loc, err := ParseLocation(a.URI)
	_, _, isURI := cutScheme(a.URI)
	switch {
	case err != nil || !isURI:
		return nil, nil
	case loc.IsLocal():
		return openRegular(loc.Path)
	case openURI != nil:
		return openURI(ctx, a.URI)
	}
	return nil, nil
}

// checkVersion reports an object in a versioned store whose current
// version is not the one recorded: it was overwritten, and the recorded
// version may still be recoverable.
func checkVersion(ctx context.Context, rep *Report, store Store, key string, a engine.Artifact) {
	if a.VersionID == "" {
		return
	}
	info, err := store.Stat(ctx, key)
	if err == nil && info.VersionID != "" && info.VersionID != a.VersionID {
		rep.problem("artifact %s: version %s is current, manifest recorded %s: the object was overwritten; the recorded version may still be retrievable", a.ID, info.VersionID, a.VersionID)
	}
}

// artifactKey finds a's key in store: a stored artifact is at folder/id;
// a recorded one may lie under the case too, when its sink was the store
// (its URI names the case's own folder, or the folder it was written in).
func artifactKey(store Store, folder string, a engine.Artifact, stored bool) (string, bool) {
	if k := folder + "/" + a.ID; CheckKey(k) == nil && (stored || store.URI(k) == a.URI) {
		return k, true
	}
	prefix := store.URI(folder) + "/"
	if rest, ok := strings.CutPrefix(a.URI, prefix); ok && CheckKey(folder+"/"+rest) == nil {
		return folder + "/" + rest, true
	}
	return "", false
}

func describeSource(a engine.Artifact) string {
	var parts []string
	for _, k := range []string{"snapshot_id", "volume_id", "instance_id"} {
		if v, ok := a.Source[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	if len(parts) == 0 {
		return "held at " + a.URI
	}
	return strings.Join(parts, ", ")
}
