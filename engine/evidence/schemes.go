package evidence

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Opener opens the store at loc, whose Scheme is the one the Opener was
// registered for.
type Opener func(ctx context.Context, loc Location) (Store, error)

// Schemes maps location schemes to the Openers of their stores, as
// database/sql maps driver names to drivers, but as a value the caller
// builds rather than a package global: the s3 opener needs the caller's
// AWS clients (profile, region, endpoint), which differ between two
// command lines in one process, and tests build their own. It is safe
// for concurrent use.
type Schemes struct {
	mu      sync.RWMutex
	openers map[string]Opener
}

// NewSchemes returns a Schemes that opens local directories ("file"):
// a DirStore, made when missing.
func NewSchemes() *Schemes {
	s := &Schemes{openers: map[string]Opener{}}
	s.Register(FileScheme, func(_ context.Context, loc Location) (Store, error) {
		return NewDirStore(loc.Path)
	})
	return s
}

// Register makes scheme open through open. It panics when scheme is not a
// lower-case URI scheme, when open is nil, or when scheme is registered
// already: two stores for one scheme is a wiring bug.
func (s *Schemes) Register(scheme string, open Opener) {
	if got, _, ok := cutScheme(scheme + ":"); !ok || got != scheme || strings.ToLower(scheme) != scheme {
		panic(fmt.Sprintf("evidence: Register of scheme %q: want a lower-case URI scheme such as \"s3\"", scheme))
	}
	if open == nil {
		panic(fmt.Sprintf("evidence: Register of scheme %q: nil Opener", scheme))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.openers[scheme]; dup {
		panic(fmt.Sprintf("evidence: scheme %q registered twice", scheme))
	}
	s.openers[scheme] = open
}

// Names are the registered schemes, sorted.
func (s *Schemes) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.openers))
}

// Open parses location (ParseLocation) and opens its store.
func (s *Schemes) Open(ctx context.Context, location string) (Store, error) {
	loc, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	return s.OpenLocation(ctx, loc)
}

// OpenLocation opens the store at loc with its scheme's Opener.
func (s *Schemes) OpenLocation(ctx context.Context, loc Location) (Store, error) {
	s.mu.RLock()
	open, ok := s.openers[loc.Scheme]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("evidence location %q: no store for %s:// here; known: %s (a local directory is written as its path)",
			loc, loc.Scheme, strings.Join(s.Names(), ", "))
	}
	st, err := open(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("evidence location %q: %w", loc, err)
	}
	return st, nil
}

// OpenURI reads the object a full URI names, the way Verify re-reads an
// artifact kept outside its case's store (a memory image in another
// bucket): the store at the URI's parent, opened through its scheme, and
// the last segment as the key. A file URI is read only when it names a
// regular file (a manifest naming /dev/zero or a FIFO must not hang the
// verifier), and nothing is created.
func (s *Schemes) OpenURI(ctx context.Context, uri string) (io.ReadCloser, error) {
	loc, err := ParseLocation(uri)
	if err != nil {
		return nil, err
	}
	if loc.IsLocal() {
		return openRegular(loc.Path)
	}
	parent, key, ok := loc.Split()
	if !ok {
		return nil, fmt.Errorf("%q names no object: want %s/KEY", uri, loc)
	}
	st, err := s.OpenLocation(ctx, parent)
	if err != nil {
		return nil, err
	}
	return st.Open(ctx, key)
}
