package evidence

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Lister is an optional ability of a Store: naming what lies under a
// prefix, so that Verify finds what a case folder holds beyond what the
// case recorded (a file planted beside the evidence, a link, a pipe).
type Lister interface {
	// List returns every entry under prefix (a key ending in "/"), in key
	// order, without following links; at most MaxListed, else an error.
	List(ctx context.Context, prefix string) ([]Listed, error)
}

// MaxListed bounds a Lister's answer: a folder holding more is refused
// rather than read into memory without end.
const MaxListed = 100_000

// Listed is one entry a Lister found.
type Listed struct {
	Key  string
	Size int64
	// NotRegular says what the entry is when it is not a regular file
	// ("a symbolic link", "a named pipe", ...); "" for a regular one.
	NotRegular string
}

// caseOwnFiles are the names a case keeps beside its artifacts.
var caseOwnFiles = regexp.MustCompile(`^(manifest\.json|custody\.jsonl|custody\.d/[0-9]{6}\.jsonl|\.lock)$`)

// verifyFolder lists the case folder when the store can: anything that is
// not a regular file is a problem (it could hang a reader or lead out of
// the case), and a regular file the case did not record (known: the keys
// of its artifacts) is told in Report.Unrecorded.
func verifyFolder(ctx context.Context, rep *Report, store Store, folder string, known map[string]bool) error {
	l, ok := store.(Lister)
	if !ok {
		return nil
	}
	entries, err := l.List(ctx, folder+"/")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		rep.problem("case folder: cannot list it: %v", err)
		return nil
	}
	for _, e := range entries {
		rel := strings.TrimPrefix(e.Key, folder+"/")
		switch {
		case e.NotRegular != "":
			rep.problem("%s is %s in the case folder: evidence is read only from regular files, never through links", rel, e.NotRegular)
		case known[e.Key] || caseOwnFiles.MatchString(rel):
		default:
			rep.Unrecorded = append(rep.Unrecorded, Printable(fmt.Sprintf("%s (%d bytes)", rel, e.Size)))
		}
	}
	return nil
}
