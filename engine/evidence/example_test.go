package evidence_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"strings"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// A Store holds objects under slash-separated keys. Put hashes and counts
// as it writes and is atomic; Append adds a line that is durable when it
// returns (the custody log is built this way); a missing key is
// fs.ErrNotExist. DirStore keeps them as files under a directory.
func ExampleStore() {
	dir, err := os.MkdirTemp("", "evidence-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var st evidence.Store
	if st, err = evidence.NewDirStore(dir); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	info, err := st.Put(ctx, "cr-1/artifacts/collect/note.txt", strings.NewReader("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("put:", info.Size, "bytes, sha256", info.SHA256[:16]+"...")
	fmt.Println("uri:", strings.Replace(info.URI, dir, "DIR", 1))

	rc, err := st.Open(ctx, "cr-1/artifacts/collect/note.txt")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	fmt.Printf("open: %q\n", b)

	for _, line := range []string{`{"seq":1}`, `{"seq":2}`} {
		if err := st.Append(ctx, "cr-1/custody.jsonl", []byte(line)); err != nil {
			log.Fatal(err)
		}
	}
	rc, err = st.Open(ctx, "cr-1/custody.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	b, _ = io.ReadAll(rc)
	rc.Close()
	fmt.Printf("appended: %q\n", b)

	_, err = st.Stat(ctx, "cr-1/manifest.json")
	fmt.Println("missing is fs.ErrNotExist:", errors.Is(err, fs.ErrNotExist))

	_, err = st.Put(ctx, "../outside", strings.NewReader("x"))
	fmt.Println("hostile key refused:", err != nil)
	// Output:
	// put: 5 bytes, sha256 2cf24dba5fb0a30e...
	// uri: file://DIR/cr-1/artifacts/collect/note.txt
	// open: "hello"
	// appended: "{\"seq\":1}\n{\"seq\":2}\n"
	// missing is fs.ErrNotExist: true
	// hostile key refused: true
}
