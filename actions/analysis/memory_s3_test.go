package analysis

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

// TestAnalyzeMemoryFromS3: a zstd-compressed LiME image in S3 (as
// capture-memory's s3:// sink with compress: zstd writes it) is streamed
// down, decompressed, checked against the capture's hash and swept.
func TestAnalyzeMemoryFromS3(t *testing.T) {
	needTools(t, "yara")
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	api := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("case-evidence")}); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "memory.lime")
	writeLime(t, img, []limeRange{{Start: 0x1000, End: 0xfffff}, {Start: 0x200000, End: 0x2fffff, Plant: map[uint64]string{0x10: "FIREBREAK-IN-S3"}}})
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	var zst bytes.Buffer
	enc, _ := zstd.NewWriter(&zst)
	enc.Write(raw)
	enc.Close()
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("case-evidence"), Key: aws.String("cases/cr-1/memory.lime.zst"),
		Body: bytes.NewReader(zst.Bytes())}); err != nil {
		t.Fatal(err)
	}
	tc := newCase(t)
	images := evidence.NewSchemes()
	s3store.Register(images, func(context.Context) s3store.API { return api })
	a := &memoryScan{open: images}
	out, err := tc.run(t, a, "memory", engine.Params{"image": "s3://case-evidence/cases/cr-1/memory.lime.zst", "sha256": sum(raw),
		"inline_rules": `rule s3 { strings: $s = "FIREBREAK-IN-S3" condition: $s }`})
	if err != nil {
		t.Fatal(err)
	}
	var rep YaraReport
	readJSON(t, tc.read(t, out["yara_matches"].(string)), &rep)
	if len(rep.Matches) != 1 || rep.Matches[0].PhysicalAddress == nil || *rep.Matches[0].PhysicalAddress != 0x200010 {
		t.Fatalf("matches %+v, want one at physical 0x200010", rep.Matches)
	}
	if out["image_sha256"] != sum(raw) {
		t.Errorf("image_sha256 %v, want the uncompressed image's %s", out["image_sha256"], sum(raw))
	}
}
