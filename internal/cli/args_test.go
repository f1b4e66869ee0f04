package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestInterspersed(t *testing.T) {
	app := newApp(&cliState{}, nil)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"flags after the name", "fb plan pb -i a=1 --format json", "fb plan -i a=1 --format json pb"},
		{"bool flag takes no value", "fb run pb --dry-run -i a=1", "fb run --dry-run -i a=1 pb"},
		{"flag=value", "fb run pb --case=x", "fb run --case=x pb"},
		{"global flag after the command", "fb run pb --no-color --region eu-west-1", "fb --no-color --region eu-west-1 run pb"},
		{"globals before stay", "fb --state-dir /s runs", "fb --state-dir /s runs"},
		{"after -- all is an argument", "fb plan -- -weird", "fb plan -- -weird"},
		{"stdin dash is an argument", "fb run pb --targets - --yes", "fb run --targets - --yes pb"},
		{"unknown command untouched", "fb nope x -y", "fb nope x -y"},
		{"no command", "fb --version", "fb --version"},
		{"a subcommand's flags", "fb evidence-bucket create s3://b --no-object-lock --region r", "fb --region r evidence-bucket create --no-object-lock s3://b"},
		{"a subcommand's alias", "fb evidence-bucket init s3://b --kms-key k", "fb evidence-bucket init --kms-key k s3://b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interspersed(app, strings.Fields(tt.in))
			if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
