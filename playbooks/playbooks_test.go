package playbooks_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/actions/all"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// registry holds every action family, as the CLI wires them, so that
// playbooks are checked against the real parameters. Validation never calls an action, so the AWS clients
// point nowhere in particular and are never used.
func registry() *engine.Registry {
	return all.Registry(awsapi.NewClients(aws.Config{Region: "us-east-1"}), all.Options{})
}

// playbookFiles lists the YAML files of dir.
func playbookFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatalf("listing %s: %v", dir, err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no playbooks in %s", dir)
	}
	return files
}

func TestEveryPlaybookLoads(t *testing.T) {
	l := &loader.Loader{Registry: registry()}
	names := map[string]string{}
	for _, dir := range []string{".", "../examples"} {
		for _, file := range playbookFiles(t, dir) {
			t.Run(file, func(t *testing.T) {
				pb, err := l.LoadFile(file)
				if err != nil {
					t.Fatalf("LoadFile:\n%v", err)
				}
				if len(pb.Steps) == 0 || pb.Description == "" || pb.Version == "" {
					t.Errorf("%s: got %d steps, description %q, version %q; want steps, a description and a version", file, len(pb.Steps), pb.Description, pb.Version)
				}
				if prev, dup := names[pb.Name]; dup {
					t.Errorf("%s: name %q already used by %s", file, pb.Name, prev)
				}
				names[pb.Name] = file
			})
		}
	}
}

// TestBuiltinsAreEmbedded checks the embedded set is the directory's, and
// that each file is named after its playbook, which lookup by name relies on.
func TestBuiltinsAreEmbedded(t *testing.T) {
	l := &loader.Loader{Registry: registry()}
	embedded, err := fs.Glob(playbooks.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	onDisk := playbookFiles(t, ".")
	if len(embedded) != len(onDisk) {
		t.Errorf("embedded: got %v, want every file of %v", embedded, onDisk)
	}
	for _, name := range embedded {
		data, err := fs.ReadFile(playbooks.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(name)
		if err != nil || string(disk) != string(data) {
			t.Errorf("%s: embedded copy differs from the file (%v)", name, err)
		}
		pb, err := l.LoadBytes("builtin:"+name, data)
		if err != nil {
			t.Errorf("LoadBytes:\n%v", err)
			continue
		}
		if want := strings.TrimSuffix(name, ".yaml"); pb.Name != want {
			t.Errorf("%s: playbook name %q, want %q (the file name)", name, pb.Name, want)
		}
	}
}
