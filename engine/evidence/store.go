// Package evidence keeps a case's evidence: the artifacts steps collect, the
// chain-of-custody log that records every change as it happens, and the
// signed manifest that sums the case up. Verify re-checks all three.
//
// Layout under a Store: CASE_ID/manifest.json, CASE_ID/custody.jsonl,
// CASE_ID/artifacts/STEP_ID/NAME.
package evidence

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// ObjectInfo describes an object held by a Store.
type ObjectInfo struct {
	URI    string
	SHA256 string // hex; empty when the store does not know it (Stat)
	Size   int64
	// VersionID and RetainUntil are set by stores that version objects
	// or lock them (S3 with versioning and Object Lock).
	VersionID   string
	RetainUntil *time.Time
}

// Store holds evidence objects under slash-separated keys. Implementations
// are safe for concurrent use. A key that does not exist makes Open and
// Stat return an error wrapping fs.ErrNotExist.
type Store interface {
	// Put stores r under key, hashing (SHA-256) and counting while it
	// writes. It is atomic: on failure nothing is left under key, and an
	// object stored there before is untouched.
	Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Append adds line and a newline to the object at key, creating it.
	// The line is durable when Append returns.
	Append(ctx context.Context, key string, line []byte) error
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// URI names key for people and for the manifest: file:///..., s3://...
	URI(key string) string
}

// CheckKey rejects keys that could escape a store's root: empty, absolute,
// with backslashes, NUL or control characters, empty, "." or ".." segments.
// Keys come from playbooks and case ids, so they are treated as hostile.
func CheckKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("evidence key %q %s: use a relative slash path such as \"CASE/artifacts/step/file.json\"", key, why)
	}
	switch {
	case key == "":
		return bad("is empty")
	case strings.HasPrefix(key, "/"):
		return bad("is absolute")
	case strings.Contains(key, `\`):
		return bad("holds a backslash")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return bad("holds a control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return bad("has an empty path segment")
		case ".", "..":
			return bad("has a \".\" or \"..\" segment")
		}
	}
	return nil
}
