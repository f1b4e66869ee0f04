package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionsGolden: `firebreak actions NAME`, text and JSON, is the
// reviewed one in testdata/actions for every action that has a golden file
// there (-update writes one for every registered action). The parameters,
// defaults, enums, calls and permissions an action declares reach the
// catalogue unchanged whatever way the spec is built.
func TestActionsGolden(t *testing.T) {
	if *update {
		for _, name := range actionNames(t) {
			writeActionGolden(t, name)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "actions", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/actions: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			for _, format := range []string{"txt", "json"} {
				got := actionOutput(t, name, format)
				path := filepath.Join("testdata", "actions", name+"."+format)
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("firebreak actions %s (%s): got\n%s\nwant (%s; if the change is intended: go test ./internal/cli -run TestActionsGolden -update)\n%s", name, format, got, path, want)
				}
			}
		})
	}
}

func actionOutput(t *testing.T, name, format string) string {
	t.Helper()
	args := []string{"firebreak", "actions"}
	if name != "" {
		args = append(args, name)
	}
	if format == "json" {
		args = append(args, "--format", "json")
	}
	var out, errb bytes.Buffer
	if code := execute(t.Context(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

func writeActionGolden(t *testing.T, name string) {
	t.Helper()
	for _, format := range []string{"txt", "json"} {
		path := filepath.Join("testdata", "actions", name+"."+format)
		if err := os.WriteFile(path, []byte(actionOutput(t, name, format)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// actionNames is the catalogue's action names, from its text form.
func actionNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(actionOutput(t, "", "txt"), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			break
		}
		names = append(names, f[0])
	}
	return names
}
