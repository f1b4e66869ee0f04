package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// capture is the capture-memory action. It is safe for concurrent use:
// every Run has its own connection, sinks and buffers.
type capture struct {
	s3       S3API
	progress Progress
	now      func() time.Time
}

var _ engine.Action = (*capture)(nil)

// Run captures one host's memory. It returns an error, never a success,
// when the image is not whole; the partial artifact is then kept and
// recorded with Complete=false. Each attempt writes a new artifact.
func (c *capture) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := parseParams(in.Params)
	if err != nil {
		return nil, err
	}
	if in.Evidence == nil {
		return nil, errNoEvidence
	}
	log := in.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cn, err := sshconn.Dial(ctx, p.Dial)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	hostKey := sshconn.Facts(cn)
	if cn.Insecure() {
		// Accepting an unverified key is a custody fact, not only a log line.
		if err := in.Evidence.Event(ctx, "insecure-host-key", hostKey); err != nil {
			return nil, err
		}
		log.Warn("host key accepted without verification (insecure_host_key)", "fingerprint", cn.HostKey.Fingerprint)
	}

	var cl cleanups
	r := sshconn.Remote{Conn: cn, Sudo: p.Sudo}
	out, err := c.capture(ctx, in, p, r, &cl, log)
	// Cleanup runs even when ctx is done: an unloaded module and removed
	// files matter most after a failure.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if failed := c.cleanup(cctx, p, cn, r, &cl, log); len(failed) > 0 {
		if out != nil {
			out["cleanup_errors"] = failed
		}
		log.Warn("cleanup on the target failed", "problems", failed)
		_ = in.Evidence.Event(cctx, "memory-cleanup-failed", map[string]any{"host": p.Dial.Target.Host, "problems": failed})
	}
	if out != nil {
		for k, v := range hostKey {
			out[k] = v
		}
	}
	return out, err
}

// cleanup runs the undo steps. When some fail (the connection may have
// died with the stream), it dials again once, pinned to the host keys this
// capture verified, and runs the failed steps again there.
func (c *capture) cleanup(ctx context.Context, p *params, cn *sshconn.Conn, r sshconn.Remote, cl *cleanups, log *slog.Logger) []string {
	left, msgs := cl.run(ctx, r)
	if len(left.steps) == 0 {
		return nil
	}
	log.Info("cleanup on the target failed; dialling again", "problems", msgs)
	cn2, err := sshconn.Dial(ctx, cn.Pinned(p.Dial))
	if err != nil {
		return append(msgs, "dialling again for cleanup: "+err.Error())
	}
	defer cn2.Close()
	left, msgs = left.run(ctx, sshconn.Remote{Conn: cn2, Sudo: r.Sudo})
	if len(left.steps) == 0 {
		return nil
	}
	return msgs
}

// capture opens the method and the sinks, copies, and records the result.
func (c *capture) capture(ctx context.Context, in *engine.StepInput, p *params, r sshconn.Remote, cl *cleanups, log *slog.Logger) (engine.Outputs, error) {
	src, err := openMethod(ctx, r, p, cl)
	if err != nil {
		return nil, err
	}
	name := c.artifactName(in, p, src)
	ss, err := c.openSinks(ctx, in, p, name, src)
	if err != nil {
		src.Abort()
		return nil, err
	}
	var lime *limeParser
	job := &copyJob{Src: src.R, Abort: src.Abort, Stall: p.Stall, Expected: src.Expected, Approx: src.Approx,
		Max: src.Max, Out: ss.writer}
	if src.Lime {
		lime = &limeParser{Want: src.Layout}
		job.Check = lime
	}
	job.Progress = c.progressFor(log).Start(p.Dial.Target.Host, src.Expected)
	res, err := job.run(ctx)
	if src.Wait != nil {
		// The remote command's own failure (sudo refused, a read error) is
		// the reason a stream ended early: say it.
		if werr := src.Wait(err != nil); werr != nil && err == nil {
			err = werr
		} else if werr != nil {
			err = fmt.Errorf("%w; %v", err, werr)
		}
	}
	if err == nil {
		err = ss.close()
	} else {
		ss.discard()
	}
	meta := map[string]any{"method": p.Method, "compress": p.Compress}
	if lime != nil {
		meta["lime_ranges"] = lime.Ranges // the manifest keeps the layout of the image
	}
	arts, ferr := ss.finish(ctx, err == nil, res, meta)
	out := c.outputs(p, src, res, arts, lime, err == nil && ferr == nil)
	if err == nil {
		err = ferr
	}
	// Done only now: a capture is finished once its sinks have verified.
	job.Progress.Done(err)
	out["complete"] = err == nil
	detail := map[string]any{"host": p.Dial.Target.Host, "method": p.Method, "sha256": res.SHA256, "size": res.Size,
		"complete": err == nil, "expected_size": src.Expected, "expected_size_from": src.ExpectedFrom, "facts": src.Facts,
		"params": paramSummary(p), "uris": out["uris"], "lime_ranges": out["lime_ranges"]}
	if err != nil {
		detail["error"] = err.Error()
	}
	if eerr := in.Evidence.Event(context.WithoutCancel(ctx), "memory-capture", detail); eerr != nil && err == nil {
		err = eerr
	}
	return out, err
}

func (c *capture) outputs(p *params, src *source, res copyResult, arts []engine.Artifact, lime *limeParser, complete bool) engine.Outputs {
	uris := make([]any, 0, len(arts))
	for _, a := range arts {
		uris = append(uris, a.URI)
	}
	ranges := []any{}
	if lime != nil {
		for _, r := range lime.Ranges {
			ranges = append(ranges, map[string]any{"start": r.Start, "end": r.End})
		}
	}
	out := engine.Outputs{"sha256": res.SHA256, "size": res.Size, "uris": uris, "method": p.Method,
		"complete": complete, "lime_ranges": ranges, "expected_size": src.Expected,
		"expected_size_from": src.ExpectedFrom, "compress": p.Compress}
	for k, v := range src.Facts {
		out[k] = v
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// artifactName is unique per host, item, attempt and second, so a retry
// never writes into an earlier attempt's file.
func (c *capture) artifactName(in *engine.StepInput, p *params, src *source) string {
	host := strings.Trim(unsafeName.ReplaceAllString(p.Dial.Target.Host, "_"), "_")
	name := fmt.Sprintf("memory-%s-%s-a%d", host, c.now().UTC().Format("20060102T150405Z"), max(in.Attempt, 1))
	if in.ForEach {
		name = fmt.Sprintf("memory-%s-i%d-%s-a%d", host, in.ItemIndex, c.now().UTC().Format("20060102T150405Z"), max(in.Attempt, 1))
	}
	name += src.Ext
	if p.Compress == "zstd" {
		name += ".zst"
	}
	return name
}

func (c *capture) progressFor(log *slog.Logger) Progress {
	if c.progress != nil {
		return c.progress
	}
	return LogProgress{Log: log}
}

// errNoEvidence guards against a caller that gives no evidence at all.
var errNoEvidence = errors.New("the step has no evidence to record the capture in: run it through the runner with a case")

// paramSummary is what the custody log keeps of how a capture was made;
// it holds no secret (a passphrase is named by its variable, never shown).
func paramSummary(p *params) map[string]any {
	t := p.Dial.Target
	sinks := make([]string, 0, len(p.Sinks))
	for _, s := range p.Sinks {
		if s.IsLocal() {
			sinks = append(sinks, fileURI(s.Path))
		} else {
			sinks = append(sinks, s.String())
		}
	}
	m := map[string]any{"host": t.Host, "port": t.Port, "user": t.User, "key_file": t.KeyFile, "method": p.Method,
		"source": p.Source, "module_dir": p.ModuleDir, "avml_path": p.AvmlPath, "sudo": p.Sudo, "sinks": sinks,
		"compress": p.Compress, "stall_timeout": p.Stall.String(), "expected_size": p.ExpectedSize,
		"insecure_host_key": t.HostKey.Insecure, "host_key": t.HostKey.Pinned, "known_hosts": t.HostKey.KnownHosts}
	if p.Dial.Jump != nil {
		m["jump"] = p.Dial.Jump.Addr()
	}
	return m
}
