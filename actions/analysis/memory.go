package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// memoryParams declare analyze-memory's parameters.
type memoryParams struct {
	Image  string `param:"image,required" doc:"the memory image: a path, a file:// or s3:// URI (capture-memory's uris output); a .zst image is decompressed as it is read"`
	SHA256 string `param:"sha256" doc:"the image's SHA-256 (capture-memory's sha256 output, of the uncompressed image): checked before the sweep is trusted"`
	Format string `param:"format" default:"auto" enum:"auto,lime,raw" doc:"lime maps each match to its physical address from the range headers; auto: lime when the image starts with a LiME header"`
	yaraParams
}

var memoryCalls = []string{"s3:GetObject"}

// memoryScan is the analyze-memory action. It is safe for concurrent use.
type memoryScan struct{ open URIOpener }

var _ engine.Action = (*memoryScan)(nil)

func (*memoryScan) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "analyze-memory",
		Summary: "YARA sweep of a memory image (a file, or an s3:// object streamed down): each match with its offset and, for LiME, its physical address; the finding's addresses and domains need no rule",
		Params:  engine.ParamsOf[memoryParams](),
		Outputs: []engine.Output{
			{Name: "yara_matches", Type: engine.TypeString, Doc: "URI of the YARA report (JSON; see DESIGN.md)"},
			{Name: "matches", Type: engine.TypeInt, Doc: "YARA matches counted"},
			{Name: "format", Type: engine.TypeString, Doc: "lime or raw"},
			{Name: "lime_ranges", Type: engine.TypeList, Doc: "{start, end, offset} of each LiME range"},
			{Name: "image_sha256", Type: engine.TypeString, Doc: "SHA-256 of the image as scanned, when it was read (s3://, .zst or sha256 given)"},
		},
		Calls:       memoryCalls,
		Permissions: awsperm.ForCalls(memoryCalls),
	}
}

func (a *memoryScan) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[memoryParams](in.Params)
	if err != nil {
		return nil, err
	}
	src, ind, ids, err := p.sources(in.PlaybookDir)
	if err != nil {
		return nil, err
	}
	if len(src) == 0 {
		return nil, errNoRules
	}
	img, err := a.local(ctx, p)
	if err != nil {
		return nil, err
	}
	defer img.cleanup()
	segs, format, err := layout(img.path, p.Format)
	if err != nil {
		return nil, err
	}
	h := localHost{}
	rep, err := sweep(ctx, h, src, ind, ids, target{Path: img.path}, 0, p.MaxMatches)
	if err != nil {
		return nil, err
	}
	rep.Target = p.Image
	for i := range rep.Matches {
		if m := &rep.Matches[i]; m.Offset >= 0 && segs != nil {
			if pa, ok := memory.Physical(segs, m.Offset); ok {
				m.PhysicalAddress = &pa
			}
		}
	}
	art, err := putReport(ctx, in, "memory", rep, map[string]string{"image": p.Image})
	if err != nil {
		return nil, err
	}
	ranges := make([]any, len(segs))
	for i, s := range segs {
		ranges[i] = map[string]any{"start": s.Start, "end": s.End, "offset": s.Offset}
	}
	return engine.Outputs{"yara_matches": art.URI, "matches": rep.Count, "format": format, "lime_ranges": ranges, "image_sha256": img.sha256}, nil
}

// layout reads a LiME image's range headers (format lime, or auto and
// the image starts with one); a raw image has none.
func layout(path, format string) ([]memory.LimeSegment, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if format == "auto" {
		var magic [4]byte
		_, _ = io.ReadFull(f, magic[:])
		format = "raw"
		if memory.IsLime(magic[:]) {
			format = "lime"
		}
	}
	if format == "raw" {
		return nil, format, nil
	}
	segs, err := memory.LimeLayout(f, fi.Size())
	if err != nil {
		return nil, "", fmt.Errorf("image %q: %w", path, err)
	}
	return segs, format, nil
}

// localImage is the image as a local file YARA can map.
type localImage struct {
	path    string
	sha256  string
	cleanup func()
}

// local gives the image as a local file: a local path as it is, anything
// else (s3://, a .zst image) streamed into a temporary file, hashed on the
// way. Locations are read as evidence locations are (evidence.ParseLocation).
func (a *memoryScan) local(ctx context.Context, p memoryParams) (*localImage, error) {
	loc, err := evidence.ParseLocation(p.Image)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	zst := strings.HasSuffix(p.Image, ".zst")
	if loc.IsLocal() {
		// YARA maps a file by its size: a device or a pipe would be swept
		// as empty, and a success claimed for nothing.
		if fi, err := os.Stat(loc.Path); err != nil {
			return nil, fmt.Errorf("image: %w", err)
		} else if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("image %q is not a regular file: sweep a device with analyze-disk, or capture the memory to a file first", p.Image)
		}
	}
	if loc.IsLocal() && !zst {
		img := &localImage{path: loc.Path, cleanup: func() {}}
		if p.SHA256 != "" {
			if img.sha256, err = fileSHA256(loc.Path); err != nil {
				return nil, err
			}
		}
		return img, checkSHA256(p, img.sha256)
	}
	var r io.ReadCloser
	switch {
	case loc.IsLocal():
		r, err = os.Open(loc.Path)
	case a.open == nil:
		err = fmt.Errorf("no store opens %s:// here", loc.Scheme)
	default:
		r, err = a.open.OpenURI(ctx, p.Image)
	}
	if err != nil {
		return nil, fmt.Errorf("opening image %q: %w", p.Image, err)
	}
	defer r.Close()
	img, err := spoolImage(r, zst)
	if err != nil {
		return nil, fmt.Errorf("reading image %q: %w", p.Image, err)
	}
	if err := checkSHA256(p, img.sha256); err != nil {
		img.cleanup()
		return nil, err
	}
	return img, nil
}

func checkSHA256(p memoryParams, got string) error {
	if p.SHA256 != "" && !strings.EqualFold(p.SHA256, got) {
		return fmt.Errorf("image %q has SHA-256 %s, not the %s given: it is not the image that was captured", p.Image, got, p.SHA256)
	}
	return nil
}

// spoolImage copies r (decompressing zstd) into a private temporary file,
// hashing what it writes; memory stays at the copy buffers.
func spoolImage(r io.Reader, zst bool) (*localImage, error) {
	if zst {
		dec, err := zstd.NewReader(r, zstd.WithDecoderLowmem(true), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		r = dec
	}
	f, err := os.CreateTemp("", "firebreak-image-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	return &localImage{path: f.Name(), sha256: hex.EncodeToString(h.Sum(nil)), cleanup: cleanup}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
