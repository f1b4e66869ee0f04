package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// TestHostActionSpecs checks the host-compromise actions as Register
// adds them: each is there, declares its calls and permissions, says
// whether it changes anything, and declares sane parameters.
func TestHostActionSpecs(t *testing.T) {
	r := engine.NewRegistry()
	Register(r, awsapi.NewClients(aws.Config{Region: "us-east-1"}))
	tests := []struct {
		name     string
		mutating bool
		required []string
	}{
		{"find-instance", false, []string{"target"}},
		{"collect-metadata", false, []string{"instance_id"}},
		{"isolate", true, []string{"instance_id"}},
		{"release", true, []string{"instance_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := r.Lookup(tt.name)
			if !ok {
				t.Fatalf("%q not registered; got %v", tt.name, r.Names())
			}
			s := a.Spec()
			if s.Mutating != tt.mutating || len(s.Calls) == 0 || len(s.Permissions) < len(s.Calls) || s.Summary == "" {
				t.Errorf("spec: mutating %v, %d calls, %d permissions, summary %q", s.Mutating, len(s.Calls), len(s.Permissions), s.Summary)
			}
			var req []string
			for _, p := range s.Params {
				if p.Type == "" {
					t.Errorf("param %q has no type", p.Name)
				}
				if p.Required {
					req = append(req, p.Name)
					if p.Default != nil {
						t.Errorf("param %q is required and has a default", p.Name)
					}
				}
				if p.Default != nil {
					if _, err := engine.Coerce(p.Type, p.Default); err != nil {
						t.Errorf("param %q default %v: %v", p.Name, p.Default, err)
					}
				}
			}
			if !equalStrings(req, tt.required) {
				t.Errorf("required params: got %v, want %v", req, tt.required)
			}
		})
	}
}
