package sshconn

import (
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// action is how an action declares its parameters with Params embedded.
type action struct {
	Host string `param:"host"`
	Params
	Own int `param:"own"`
}

func TestDialConfigFromParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		params  engine.Params
		wantErr string
		check   func(t *testing.T, c DialConfig)
	}{
		{name: "defaults", params: engine.Params{"host": "10.0.0.5", "own": 1}, check: func(t *testing.T, c DialConfig) {
			if c.Target.Port != 22 || c.Target.User != "ec2-user" || c.Keepalive != 15*time.Second || c.Target.HostKey.KnownHosts != "~/.ssh/known_hosts" || c.Jump != nil {
				t.Errorf("got %+v, want port 22, ec2-user, 15s keepalive, ~/.ssh/known_hosts, no jump", c)
			}
		}},
		{name: "jump inherits key and user, not insecure",
			params: engine.Params{"host": "h", "user": "admin", "key_file": "/k", "insecure_host_key": true, "jump": map[string]any{"host": "bastion"}},
			check: func(t *testing.T, c DialConfig) {
				if j := c.Jump; j.Host != "bastion" || j.Port != 22 || j.User != "admin" || j.KeyFile != "/k" || j.HostKey.Insecure || !c.Target.HostKey.Insecure {
					t.Errorf("jump %+v target %+v", j, c.Target)
				}
			}},
		{name: "no host", params: engine.Params{}, wantErr: "host is empty"},
		{name: "bad port", params: engine.Params{"host": "h", "port": 70000}, wantErr: "port 70000 is out of range"},
		{name: "zero keepalive", params: engine.Params{"host": "h", "keepalive": "0s"}, wantErr: "keepalive 0s is not positive"},
		{name: "jump unknown key", params: engine.Params{"host": "h", "jump": map[string]any{"host": "b", "hots": 1}}, wantErr: `jump has unknown key "hots"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := engine.Decode[action](tc.params)
			var c DialConfig
			if err == nil {
				c, err = p.DialConfig(p.Host)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
