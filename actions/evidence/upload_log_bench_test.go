package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestLastLineEnd(t *testing.T) {
	t.Parallel()
	big := "x\n" + strings.Repeat("y", 200<<10) // the only newline is 200 KiB back
	tests := []struct {
		name, data string
		want       int64
	}{
		{name: "empty", data: "", want: 0},
		{name: "ends with newline", data: "a\nb\n", want: 4},
		{name: "torn last line", data: "a\nb\n{\"se", want: 4},
		{name: "no newline", data: "abc", want: 3},
		{name: "newline chunks back", data: big, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := lastLineEnd(strings.NewReader(tt.data), int64(len(tt.data)))
			if err != nil || got != tt.want {
				t.Fatalf("got %d (err %v), want %d", got, err, tt.want)
			}
		})
	}
}

// BenchmarkUploadLog compares upload-log with a plain Put of the same bytes
// into the same kind of case: the ratio of their ns/op is upload-log's
// overhead (finding the last newline, the section reader).
func BenchmarkUploadLog(b *testing.B) {
	line := `{"seq":1,"kind":"step","step":"disks","status":"running","time":"2026-11-29T10:15:00Z"}` + "\n"
	data := bytes.Repeat([]byte(line), (32<<20)/len(line))
	path := filepath.Join(b.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run("upload-log", func(b *testing.B) {
		_, c := openCase(b)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			in := &engine.StepInput{RunID: "run-1", StepID: "log", RunLogPath: path, Evidence: c.Evidence("log")}
			if _, err := (&uploadLog{}).Run(b.Context(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain-put", func(b *testing.B) {
		_, c := openCase(b)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			_, err = c.Evidence("log").Put(b.Context(), engine.ArtifactMeta{Name: "journal.jsonl", Kind: "run-log"}, f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
