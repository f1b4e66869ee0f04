package memory

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// fileSink writes NAME.partial in a directory and renames it to NAME only
// when the capture is complete, so a file without the suffix is always a
// whole image. Each attempt has its own NAME: a retry never appends.
type fileSink struct {
	f     *os.File
	dir   string
	name  string
	final string
}

func openFileSink(dir, name string) (*fileSink, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sink directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("creating sink directory %q: %w", abs, err)
	}
	final := filepath.Join(abs, name)
	// O_EXCL: an earlier attempt's file (whole or partial) is never reused.
	f, err := os.OpenFile(final+".partial", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating memory image file: %w", err)
	}
	if _, err := os.Stat(final); err == nil {
		f.Close()
		os.Remove(final + ".partial")
		return nil, fmt.Errorf("memory image %q already exists: refusing to overwrite evidence", final)
	}
	return &fileSink{f: f, dir: abs, name: name, final: final}, nil
}

func (s *fileSink) Write(p []byte) (int, error) { return s.f.Write(p) }

// Finish syncs the file; when complete it renames it to its final name
// and checks the size on disk.
func (s *fileSink) Finish(_ context.Context, complete bool, want storedSum) (stored, error) {
	partial := s.final + ".partial"
	if !complete {
		// A chunk this sink took but another refused is not in the
		// recorded hash: the partial file holds exactly what was hashed.
		if fi, err := s.f.Stat(); err == nil && fi.Size() > want.Size {
			_ = s.f.Truncate(want.Size)
		}
	}
	serr := s.f.Sync()
	cerr := s.f.Close()
	if !complete {
		return stored{URI: fileURI(partial), Meta: map[string]any{"partial": true}}, nil
	}
	if serr != nil || cerr != nil {
		return stored{URI: fileURI(partial)}, fmt.Errorf("writing %q: %v %v", partial, serr, cerr)
	}
	fi, err := os.Stat(partial)
	if err != nil {
		return stored{URI: fileURI(partial)}, err
	}
	if fi.Size() != want.Size {
		return stored{URI: fileURI(partial)}, fmt.Errorf("memory image file %q holds %d bytes, want %d", partial, fi.Size(), want.Size)
	}
	if err := os.Rename(partial, s.final); err != nil {
		return stored{URI: fileURI(partial)}, fmt.Errorf("renaming the finished memory image: %w", err)
	}
	return stored{URI: fileURI(s.final)}, nil
}

func (s *fileSink) abandon(context.Context) {
	s.f.Close()
	os.Remove(s.final + ".partial")
}

func fileURI(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}
