package evidence

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SegmentKey names segment n (from 1) of a log kept in segments, as the
// S3 store keeps custody logs: CASE/custody.jsonl is CASE/custody.d/000001.jsonl,
// CASE/custody.d/000002.jsonl, ... The DirStore reads and continues such a
// log too, so a case copied from S3 to a directory (aws s3 sync) verifies
// and resumes where it is.
func SegmentKey(key string, n int) string {
	return fmt.Sprintf("%s.d/%06d.jsonl", strings.TrimSuffix(key, ".jsonl"), n)
}

// segments lists the segment keys of the log at key that exist, in order.
func (d *DirStore) segments(root *os.Root, key string) []string {
	if !strings.HasSuffix(key, ".jsonl") {
		return nil
	}
	var out []string
	for n := 1; ; n++ {
		k := SegmentKey(key, n)
		if _, err := root.Lstat(filepath.FromSlash(k)); err != nil {
			return out
		}
		out = append(out, k)
	}
}

// joinSegments reads a log kept in segments: the single file at key if
// there is one (written before the log was segmented), then each segment.
func (d *DirStore) joinSegments(root *os.Root, key string, segs []string) (io.ReadCloser, error) {
	var buf bytes.Buffer
	for _, k := range append([]string{key}, segs...) {
		f, err := openRegularIn(root, filepath.FromSlash(k), os.O_RDONLY, 0)
		if k == key && isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		_, err = buf.ReadFrom(f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return io.NopCloser(&buf), nil
}
