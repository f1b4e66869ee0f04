package loader

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
)

func testCatalog() *Catalog {
	return &Catalog{
		Dirs:    []string{"testdata/catalog/a", "testdata/catalog/b", "testdata/catalog/missing"},
		Builtin: os.DirFS("testdata/catalog/builtin"),
		Loader:  &Loader{Registry: testRegistry()},
	}
}

func TestCatalogList(t *testing.T) {
	t.Parallel()
	got, err := testCatalog().List()
	want := []Entry{
		{Name: "host-compromise", Version: "9.9", Incident: "ec2-instance-compromise", Description: "the site's own version",
			Source: "testdata/catalog/a/host-compromise.yaml", Shadows: []string{"builtin:host-compromise.yaml"}},
		{Name: "key-compromise", Description: "found by its name, not its file", Findings: []string{"UnauthorizedAccess:IAMUser/*"},
			Source: "testdata/catalog/a/renamed-file.yml", Shadows: []string{"testdata/catalog/b/key-compromise.yaml"}},
		{Name: "local-triage", Version: "1.0", Incident: "any", Source: "builtin:local-triage.yaml"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List:\n got %+v\nwant %+v", got, want)
	}
	wantErr := `testdata/catalog/a/broken.yaml:3:21: unknown action "isolat" (did you mean "isolate"?)`
	if err == nil || err.Error() != wantErr {
		t.Errorf("List error = %v, want %q", err, wantErr)
	}
}

func TestCatalogFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, arg     string
		source, error string
	}{
		{name: "dir shadows builtin", arg: "host-compromise", source: "testdata/catalog/a/host-compromise.yaml"},
		{name: "by name: in the first dir before the file name in the second", arg: "key-compromise", source: "testdata/catalog/a/renamed-file.yml"},
		{name: "builtin", arg: "local-triage", source: "builtin:local-triage.yaml"},
		{name: "a path", arg: "testdata/catalog/b/key-compromise.yaml", source: "testdata/catalog/b/key-compromise.yaml"},
		{name: "a file name without slash", arg: "nothing-here.yml", error: "reading playbook: open nothing-here.yml: no such file or directory"},
		{name: "a broken one is reported, not skipped", arg: "broken", error: `testdata/catalog/a/broken.yaml:3:21: unknown action "isolat" (did you mean "isolate"?)`},
		{name: "unknown name", arg: "host-compromis", error: `no playbook named "host-compromis" in testdata/catalog/a, testdata/catalog/b, testdata/catalog/missing, the built-ins (did you mean "host-compromise"?): see firebreak list`},
	}
	c := testCatalog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pb, err := c.Find(tt.arg)
			if tt.error != "" {
				if err == nil || err.Error() != tt.error {
					t.Fatalf("Find(%q) error = %v, want %q", tt.arg, err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find(%q): %v", tt.arg, err)
			}
			if pb.Source != tt.source {
				t.Errorf("Find(%q).Source = %q, want %q", tt.arg, pb.Source, tt.source)
			}
		})
	}
}

func TestCatalogMissingFile(t *testing.T) {
	t.Parallel()
	_, err := testCatalog().Find("testdata/none.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
	if got := IsFile("a/b"); !got || IsFile("name") || !IsFile("x.yml") || !IsFile("x.yaml") {
		t.Errorf("IsFile is wrong")
	}
	empty := &Catalog{}
	if list, err := empty.List(); err != nil || len(list) != 0 {
		t.Errorf("empty catalogue: %v %v", list, err)
	}
	if _, err := empty.Find("x"); err == nil || !strings.HasPrefix(err.Error(), `no playbook named "x" in `) {
		t.Errorf("empty catalogue Find: %v", err)
	}
}
