package evidence

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Location
	}{
		{"relative dir", "./evidence", Location{Scheme: "file", Path: "evidence"}},
		{"absolute dir", "/srv/ev/", Location{Scheme: "file", Path: "/srv/ev"}},
		{"dir with a colon after a dot", "./a:b", Location{Scheme: "file", Path: "a:b"}},
		{"dir with a colon after a slash", "cases/10:00", Location{Scheme: "file", Path: "cases/10:00"}},
		{"file URL", "file:///srv/ev", Location{Scheme: "file", Path: "/srv/ev"}},
		{"file URL of localhost, escaped", "file://localhost/srv/a%20b", Location{Scheme: "file", Path: "/srv/a b"}},
		{"bucket", "s3://ir-evidence", Location{Scheme: "s3", Host: "ir-evidence"}},
		{"bucket and slash", "s3://ir-evidence/", Location{Scheme: "s3", Host: "ir-evidence"}},
		{"bucket and prefix", "s3://ir-evidence/cases/2026/", Location{Scheme: "s3", Host: "ir-evidence", Path: "cases/2026"}},
		{"another scheme parses", "gs://b/p", Location{Scheme: "gs", Host: "b", Path: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLocation(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseLocation(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			again, err := ParseLocation(got.String())
			if err != nil || again != got {
				t.Errorf("ParseLocation(%q.String() = %q) = %+v, %v; want it back", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParseLocationRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", "location is empty"},
		{"s3:/bucket", `location "s3:/bucket": want s3://BUCKET or s3://BUCKET/PREFIX (for a local directory whose name holds a colon, write ./s3:/bucket)`},
		{"s3:bucket", `want s3://BUCKET or s3://BUCKET/PREFIX`},
		{"S3://b", `location "S3://b": the scheme "S3" must be lower case: write s3://BUCKET or s3://BUCKET/PREFIX`},
		{"s3://", `location "s3://" names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX`},
		{"s3:///cases", `names no bucket`},
		{"s3://my bucket/p", `bucket "my bucket" holds ' '`},
		{`s3://b\x/p`, `holds '\\'`},
		{"s3://b/a/../c", `path: evidence key "a/../c" has a "." or ".." segment`},
		{"s3://b/a//c", `has an empty path segment`},
		{"s3://b/a\x01", `holds a control character`},
		{"ev-2026T10:00", `want ev-2026t10://HOST/PATH (for a local directory whose name holds a colon, write ./ev-2026T10:00)`},
		{"file://host/srv", `a file URL names a directory on this host`},
		{"file:///a%zz", `invalid URL escape`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLocation(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseLocation(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLocationJoinWhereSplit(t *testing.T) {
	t.Parallel()
	dir, _ := ParseLocation("/srv/ev")
	root, _ := ParseLocation("s3://b")
	pre, _ := ParseLocation("s3://b/cases")
	tests := []struct {
		loc                Location
		sub, joined, where string
	}{
		{dir, "batch/i-1", "/srv/ev/batch/i-1", "/srv/ev/batch/i-1/manifest.json"},
		{root, "batch", "s3://b/batch", "s3://b/batch/manifest.json"},
		{pre, "batch/i-1", "s3://b/cases/batch/i-1", "s3://b/cases/batch/i-1/manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.joined, func(t *testing.T) {
			j, err := tt.loc.Join(tt.sub)
			if err != nil || j.String() != tt.joined {
				t.Fatalf("%v.Join(%q) = %v, %v; want %s", tt.loc, tt.sub, j, err, tt.joined)
			}
			if got := j.Where("manifest.json"); got != tt.where {
				t.Errorf("Where: got %s, want %s", got, tt.where)
			}
			parent, name, ok := j.Split()
			if want := tt.sub[strings.LastIndex(tt.sub, "/")+1:]; !ok || name != want {
				t.Errorf("Split: got %v %q %v, want the name %q", parent, name, ok, want)
			}
			if back, _ := parent.Join(name); back != j {
				t.Errorf("Split then Join: got %v, want %v", back, j)
			}
		})
	}
	for _, bad := range []string{"", "../x", "/abs", "a//b"} {
		if _, err := pre.Join(bad); err == nil {
			t.Errorf("Join(%q): want an error", bad)
		}
	}
	for _, l := range []Location{root, {Scheme: "file", Path: "/"}} {
		if _, _, ok := l.Split(); ok {
			t.Errorf("%v.Split: want no segment to cut", l)
		}
	}
}

func TestLocationAbs(t *testing.T) {
	t.Parallel()
	rel, _ := ParseLocation("evidence")
	abs, err := rel.Abs()
	if want, _ := filepath.Abs("evidence"); err != nil || abs.Path != want {
		t.Errorf("Abs: got %v, %v; want %s", abs, err, want)
	}
	s3, _ := ParseLocation("s3://b/p")
	if got, err := s3.Abs(); err != nil || got != s3 {
		t.Errorf("Abs of a URI: got %v, %v; want it unchanged", got, err)
	}
}

// FuzzParseLocation: no input panics, and whatever parses prints as a
// string that parses back to the same location.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"./ev", "/srv/ev", "s3://b/p", "S3://b", "s3:/b", "s3://", "file:///x%20y", "a:b", "./a:b", "gs://h/p/q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseLocation(s)
		if err != nil {
			return
		}
		again, err := ParseLocation(loc.String())
		if err != nil || again != loc {
			t.Fatalf("ParseLocation(%q) = %+v, printed %q, read back as %+v, %v", s, loc, loc.String(), again, err)
		}
	})
}
