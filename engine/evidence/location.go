package evidence

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Location names where a store lives: a local directory, or a URI whose
// scheme a Schemes can open (s3://BUCKET/PREFIX). It is a comparable
// value. ParseLocation is the only parser of locations; everything that
// takes one from a person (--evidence, verify's PATH, a memory sink) goes
// through it.
type Location struct {
	// Scheme is "file" for a local directory, else the URI's scheme, in
	// lower case ("s3").
	Scheme string
	// Host is the URI's authority (an S3 bucket); empty for a directory.
	Host string
	// Path is, for a directory, its path in the OS's form, cleaned; for a
	// URI, the slash-separated prefix under Host, with no leading or
	// trailing slash ("" for Host's root).
	Path string
}

// FileScheme is the scheme of a local directory.
const FileScheme = "file"

// ParseLocation reads a location: a directory ("./evidence", "/srv/ev"),
// a file:// URL of one (file:///srv/ev, as a DirStore's URIs are), or
// SCHEME://HOST/PATH. Anything that starts as a URI does ("x:" where x is
// a letter and then letters, digits, "+", "-" or "."), so a mistyped URI
// (s3:/bucket, S3://bucket, s3://) is an error, never a directory named
// "s3:"; a directory whose first name holds a colon is written "./a:b".
// The scheme must be lower case; a URI's host may hold only letters,
// digits, ".", "-" and "_", and its path must be a valid key (CheckKey).
// Whether a scheme can be opened is for Schemes to say, not the parser.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, fmt.Errorf("location is empty: give a directory or a URI such as s3://BUCKET/PREFIX")
	}
	scheme, rest, isURI := cutScheme(s)
	if !isURI {
		return Location{Scheme: FileScheme, Path: filepath.Clean(s)}, nil
	}
	low := strings.ToLower(scheme)
	rest, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return Location{}, fmt.Errorf("location %q: want %s (for a local directory whose name holds a colon, write ./%s)", s, example(low), s)
	}
	if low != scheme {
		return Location{}, fmt.Errorf("location %q: the scheme %q must be lower case: write %s", s, scheme, example(low))
	}
	host, path, _ := strings.Cut(rest, "/")
	if scheme == FileScheme {
		return parseFileURL(s, host, path)
	}
	if host == "" {
		return Location{}, fmt.Errorf("location %q names no %s: write %s", s, hostWord(scheme), example(scheme))
	}
	if i := strings.IndexFunc(host, badHostRune); i >= 0 {
		return Location{}, fmt.Errorf("location %q: %s %q holds %q: write %s", s, hostWord(scheme), host, host[i], example(scheme))
	}
	path = strings.Trim(path, "/")
	if path != "" {
		if err := CheckKey(path); err != nil {
			return Location{}, fmt.Errorf("location %q: path: %w", s, err)
		}
	}
	return Location{Scheme: scheme, Host: host, Path: path}, nil
}

// cutScheme splits "scheme:rest" when s starts with a URI scheme.
func cutScheme(s string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i < 1 {
		return "", s, false
	}
	for j, r := range s[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", s, false
		}
	}
	return s[:i], s[i+1:], true
}

// parseFileURL reads file:///ABS/DIR (or file://localhost/ABS/DIR), with
// its escapes undone, as url.URL writes them.
func parseFileURL(s, host, path string) (Location, error) {
	if host != "" && host != "localhost" {
		return Location{}, fmt.Errorf("location %q: a file URL names a directory on this host: write %s", s, example(FileScheme))
	}
	dir, err := url.PathUnescape("/" + path)
	if err != nil {
		return Location{}, fmt.Errorf("location %q: %w", s, err)
	}
	if strings.ContainsRune(dir, 0) {
		return Location{}, fmt.Errorf("location %q holds a NUL byte", s)
	}
	return Location{Scheme: FileScheme, Path: filepath.Clean(filepath.FromSlash(dir))}, nil
}

func badHostRune(r rune) bool {
	ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
	return !ok
}

func hostWord(scheme string) string {
	if scheme == "s3" {
		return "bucket"
	}
	return "host"
}

// example is how a location of scheme is written, for error messages.
func example(scheme string) string {
	switch scheme {
	case "s3":
		return "s3://BUCKET or s3://BUCKET/PREFIX"
	case FileScheme:
		return "file:///ABSOLUTE/DIR, or the directory itself"
	}
	return scheme + "://HOST/PATH"
}

// IsLocal reports whether l is a local directory.
func (l Location) IsLocal() bool { return l.Scheme == FileScheme }

// String writes l so that ParseLocation reads it back: a directory as its
// path, a URI as SCHEME://HOST[/PATH].
func (l Location) String() string {
	if l.IsLocal() {
		if _, _, uri := cutScheme(l.Path); uri {
			return "." + string(filepath.Separator) + l.Path
		}
		return l.Path
	}
	if l.Path == "" {
		return l.Scheme + "://" + l.Host
	}
	return l.Scheme + "://" + l.Host + "/" + l.Path
}

// Join returns the location of sub under l: each --targets run has its
// own under the batch's. sub is one or more key segments (CheckKey).
func (l Location) Join(sub string) (Location, error) {
	if err := CheckKey(sub); err != nil {
		return Location{}, err
	}
	switch {
	case l.IsLocal():
		l.Path = filepath.Join(l.Path, filepath.FromSlash(sub))
	case l.Path == "":
		l.Path = sub
	default:
		l.Path += "/" + sub
	}
	return l, nil
}

// Where says where key of the store at l is, for a responder to find it:
// a path for a directory, a URI otherwise. It does not check key.
func (l Location) Where(key string) string {
	if l.IsLocal() {
		return filepath.Join(l.Path, filepath.FromSlash(key))
	}
	if l.Path == "" {
		l.Path = key
	} else {
		l.Path += "/" + key
	}
	return l.String()
}

// Abs makes a directory's path absolute, so that a resume from another
// working directory finds the same evidence; a URI is returned as it is.
func (l Location) Abs() (Location, error) {
	if !l.IsLocal() {
		return l, nil
	}
	abs, err := filepath.Abs(l.Path)
	if err != nil {
		return Location{}, fmt.Errorf("evidence dir %q: %w", l.Path, err)
	}
	l.Path = abs
	return l, nil
}

// Split cuts l's last path segment off: s3://b/p/CASE is s3://b/p and
// "CASE". ok is false when there is none (s3://b, "/").
func (l Location) Split() (parent Location, name string, ok bool) {
	parent = l
	if l.IsLocal() {
		name = filepath.Base(l.Path)
		if name == string(filepath.Separator) || name == "." || name == ".." {
			return l, "", false
		}
		parent.Path = filepath.Dir(l.Path)
		return parent, name, true
	}
	if l.Path == "" {
		return l, "", false
	}
	i := strings.LastIndexByte(l.Path, '/')
	parent.Path, name = l.Path[:max(i, 0)], l.Path[i+1:]
	return parent, name, true
}
