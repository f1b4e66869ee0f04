package analysis

import (
	"context"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// openHost is this machine when addr is empty, else the host at addr over
// SSH with capture-memory's connection rules. facts (the host keys
// accepted) go into the outputs; an unverified key is a custody event.
func openHost(ctx context.Context, in *engine.StepInput, addr string, p sshconn.Params, sudo bool) (host, map[string]any, func(), error) {
	if addr == "" {
		return localHost{}, nil, func() {}, nil
	}
	cfg, err := p.DialConfig(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := sshconn.Dial(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	facts := sshconn.Facts(c)
	if c.Insecure() {
		if err := in.Evidence.Event(ctx, "insecure-host-key", facts); err != nil {
			c.Close()
			return nil, nil, nil, err
		}
	}
	h := &sshHost{r: sshconn.Remote{Conn: c, Sudo: sudo}, addr: fmt.Sprintf("%s@%s", cfg.Target.User, cfg.Target.Addr())}
	return h, facts, func() { c.Close() }, nil
}
