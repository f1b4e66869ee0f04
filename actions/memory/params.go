package memory

import (
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// captureParams declare capture-memory's parameters: the spec and the
// decoding both read them.
type captureParams struct {
	Host string `param:"host,required" doc:"address to SSH to"`
	sshconn.Params
	Method       string        `param:"method" default:"lime" enum:"lime,avml,raw" doc:"how memory is read"`
	Source       string        `param:"source" doc:"device or file for raw, e.g. /dev/crash"`
	ModuleDir    string        `param:"module_dir" doc:"local dir of LiME modules named lime-<uname -r>.ko"`
	AvmlPath     string        `param:"avml_path" doc:"local AVML binary to upload"`
	Sudo         bool          `param:"sudo" default:"true" doc:"prefix privileged remote commands with sudo -n"`
	Sinks        []string      `param:"sinks" doc:"file://DIR and s3://BUCKET/PREFIX; none: the run's evidence store"`
	Compress     string        `param:"compress" default:"none" enum:"none,zstd" doc:"compression of the stored image; hashes are of the uncompressed stream"`
	StallTimeout time.Duration `param:"stall_timeout" default:"60s" doc:"no byte for this long fails the capture"`
	ExpectedSize int64         `param:"expected_size" doc:"bytes expected on the wire (LiME headers included); overrides detection"`
	LimePort     int           `param:"lime_port" doc:"target-local TCP port LiME listens on (127.0.0.1 only); default random"`
	LimeWait     time.Duration `param:"lime_wait" default:"60s" doc:"how long to wait for LiME to listen"`
	IomemPath    string        `param:"iomem_path" default:"/proc/iomem" doc:"where the target's RAM layout is read (for tests; leave the default)"`
}

// params are capture-memory's parameters, checked.
type params struct {
	Dial         sshconn.DialConfig
	Method       string
	Source       string
	ModuleDir    string
	AvmlPath     string
	Sudo         bool
	Sinks        []evidence.Location // empty: the run's evidence store
	Compress     string
	Stall        time.Duration
	ExpectedSize int64
	LimePort     int
	LimeWait     time.Duration
	IomemPath    string // where the RAM layout is read on the target; tests point it elsewhere
}

func parseParams(in engine.Params) (*params, error) {
	p, err := engine.Decode[captureParams](in)
	if err != nil {
		return nil, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	out := &params{
		Method: p.Method, Source: p.Source, ModuleDir: p.ModuleDir, AvmlPath: p.AvmlPath, Sudo: p.Sudo,
		Compress: p.Compress, Stall: p.StallTimeout, ExpectedSize: p.ExpectedSize, LimePort: p.LimePort,
		LimeWait: p.LimeWait, IomemPath: p.IomemPath,
	}
	if out.Dial, err = p.DialConfig(p.Host); err != nil {
		errs = append(errs, err)
	}
	switch {
	case out.Method == "lime" && out.ModuleDir == "":
		bad("method lime needs module_dir: a directory of LiME modules named lime-<uname -r>.ko")
	case out.Method == "avml" && out.AvmlPath == "":
		bad("method avml needs avml_path: the local AVML binary to upload")
	case out.Method == "raw" && out.Source == "":
		bad("method raw needs source: the device or file to read, e.g. /dev/crash")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"stall_timeout", out.Stall}, {"lime_wait", out.LimeWait}} {
		if d.d <= 0 {
			bad("%s %v is not positive: give a duration such as \"60s\"", d.name, d.d)
		}
	}
	if out.ExpectedSize < 0 {
		bad("expected_size %d is negative", out.ExpectedSize)
	}
	for _, s := range p.Sinks {
		t, err := parseSink(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Sinks = append(out.Sinks, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
