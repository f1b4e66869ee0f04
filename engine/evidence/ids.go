package evidence

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"
)

// NewCaseID returns a sortable, unique case id such as
// "cr-20261129T102217Z-7d5f": the UTC time, then 16 random bits.
func NewCaseID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "cr-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// randomHex is 64 random bits in hex, for temporary file names.
func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var caseIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckCaseID rejects case ids that are not one safe path segment
// (--case comes from the command line).
func CheckCaseID(id string) error {
	if !caseIDRe.MatchString(id) {
		return fmt.Errorf("case id %q is not valid: use letters, digits, '.', '_' and '-' (at most 128), starting with a letter or digit", id)
	}
	return nil
}

// sanitizeName makes name one safe path segment, keeping what it can of
// the original so a responder still recognises the file.
func sanitizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 200 {
		s = s[len(s)-200:] // keep the extension
	}
	if s = strings.TrimLeft(s, "."); s == "" {
		return "artifact"
	}
	return s
}

// withSuffix returns name-N.ext for the Nth collision.
func withSuffix(name string, n int) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name, ext = name[:i], name[i:]
	}
	return fmt.Sprintf("%s-%d%s", name, n, ext)
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
