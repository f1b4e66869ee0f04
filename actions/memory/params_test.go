package memory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

func TestParseParams(t *testing.T) {
	base := func(extra map[string]any) engine.Params {
		p := engine.Params{"host": "10.0.0.5", "module_dir": "/srv/lime"}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name    string
		params  engine.Params
		wantErr string
		check   func(t *testing.T, p *params)
	}{
		{name: "defaults", params: base(nil), check: func(t *testing.T, p *params) {
			if p.Method != "lime" || !p.Sudo || p.Stall != 60*time.Second || p.Dial.Target.Port != 22 || p.Dial.Target.User != "ec2-user" || p.Compress != "none" ||
				p.LimeWait != 60*time.Second || p.Dial.Keepalive != 15*time.Second || p.IomemPath != "/proc/iomem" || p.Dial.Target.HostKey.KnownHosts != "~/.ssh/known_hosts" {
				t.Fatalf("got %+v, want lime, sudo, 60s, port 22, ec2-user, none, lime_wait 60s, keepalive 15s, /proc/iomem, ~/.ssh/known_hosts", p)
			}
		}},
		{name: "empty host", params: engine.Params{"host": "", "module_dir": "/x"}, wantErr: "host is empty"},
		{name: "empty user", params: base(map[string]any{"user": ""}), wantErr: "user is empty: give the SSH user"},
		{name: "zero stall_timeout", params: base(map[string]any{"stall_timeout": time.Duration(0)}), wantErr: `stall_timeout 0s is not positive`},
		{name: "negative keepalive", params: base(map[string]any{"keepalive": "-1s"}), wantErr: `keepalive -1s is not positive`},
		{name: "jump without host", params: base(map[string]any{"jump": map[string]any{"port": 2222}}), wantErr: `parameter "jump.host" is required but has no value`},
		{name: "empty jump map is no jump", params: base(map[string]any{"jump": map[string]any{}}), check: func(t *testing.T, p *params) {
			if p.Dial.Jump != nil {
				t.Fatalf("jump = %+v, want none", p.Dial.Jump)
			}
		}},
		{name: "no host", params: engine.Params{"module_dir": "/x"}, wantErr: `parameter "host" is required but has no value`},
		{name: "unknown method", params: base(map[string]any{"method": "dd"}), wantErr: `parameter "method": string "dd" is not one of "lime", "avml", "raw"`},
		{name: "raw without source", params: base(map[string]any{"method": "raw"}), wantErr: "method raw needs source"},
		{name: "avml without path", params: base(map[string]any{"method": "avml"}), wantErr: "needs avml_path"},
		{name: "lime without module_dir", params: engine.Params{"host": "h"}, wantErr: "needs module_dir"},
		{name: "bad compress", params: base(map[string]any{"compress": "gzip"}), wantErr: `parameter "compress": string "gzip" is not one of "none", "zstd"`},
		{name: "bad port", params: base(map[string]any{"port": 70000}), wantErr: "port 70000 is out of range"},
		{name: "bad sink", params: base(map[string]any{"sinks": []any{"ftp://x"}}), wantErr: `sink "ftp://x": unknown scheme`},
		{name: "s3 sink without bucket", params: base(map[string]any{"sinks": []any{"s3:///x"}}), wantErr: "names no bucket"},
		{name: "s3 sink with one slash", params: base(map[string]any{"sinks": []any{"s3:/b/x"}}), wantErr: `sink: location "s3:/b/x": want s3://BUCKET`},
		{name: "upper-case s3 sink", params: base(map[string]any{"sinks": []any{"S3://b"}}), wantErr: `the scheme "S3" must be lower case`},
		{name: "relative dir sink", params: base(map[string]any{"sinks": []any{"images"}}), wantErr: `sink "images": want an absolute directory`},
		{name: "file sink on another host", params: base(map[string]any{"sinks": []any{"file://nas/images"}}), wantErr: `a file URL names a directory on this host`},
		{name: "jump unknown key", params: base(map[string]any{"jump": map[string]any{"host": "b", "hots": 1}}), wantErr: `jump has unknown key "hots"`},
		{name: "jump bad port", params: base(map[string]any{"jump": map[string]any{"host": "b", "port": "x"}}), wantErr: `parameter "jump.port": want int, got string "x"`},
		{name: "jump inherits", params: base(map[string]any{"key_file": "/k", "user": "admin", "jump": map[string]any{"host": "bastion"}}),
			check: func(t *testing.T, p *params) {
				j := p.Dial.Jump
				if j.Host != "bastion" || j.Port != 22 || j.User != "admin" || j.KeyFile != "/k" {
					t.Fatalf("jump = %+v, want bastion:22 as admin with /k", j)
				}
			}},
		{name: "jump does not inherit insecure_host_key", params: base(map[string]any{"insecure_host_key": true, "jump": map[string]any{"host": "bastion"}}),
			check: func(t *testing.T, p *params) {
				if !p.Dial.Target.HostKey.Insecure || p.Dial.Jump.HostKey.Insecure {
					t.Fatalf("insecure target=%v jump=%v, want true and false", p.Dial.Target.HostKey.Insecure, p.Dial.Jump.HostKey.Insecure)
				}
			}},
		{name: "sinks", params: base(map[string]any{"sinks": []any{"file:///var/ev", "s3://b/p/q/", "/abs", "file://~/ev"}}), check: func(t *testing.T, p *params) {
			home, _ := os.UserHomeDir()
			want := []evidence.Location{{Scheme: "file", Path: "/var/ev"}, {Scheme: "s3", Host: "b", Path: "p/q"}, {Scheme: "file", Path: "/abs"},
				{Scheme: "file", Path: filepath.Join(home, "ev")}}
			for i, s := range p.Sinks {
				if s != want[i] {
					t.Fatalf("sink %d = %+v, want %+v", i, s, want[i])
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseParams(tc.params)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestSpecParamsAreTheContract(t *testing.T) {
	spec := New(Options{}).Spec()
	for _, name := range []string{"host", "port", "user", "key_file", "jump", "host_key", "known_hosts", "console_output",
		"insecure_host_key", "method", "source", "module_dir", "avml_path", "sudo", "sinks", "compress", "stall_timeout", "expected_size"} {
		if _, ok := spec.Param(name); !ok {
			t.Errorf("parameter %q is not declared", name)
		}
	}
	outs := map[string]bool{}
	for _, o := range spec.Outputs {
		outs[o.Name] = true
	}
	for _, name := range []string{"sha256", "size", "uris", "method", "complete", "lime_ranges"} {
		if !outs[name] {
			t.Errorf("output %q is not declared", name)
		}
	}
}
