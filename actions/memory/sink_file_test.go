package memory

import (
	"os"
	"testing"
)

// TestPartialFileHoldsWhatWasHashed: bytes a file sink took past what the
// capture hashed (another sink refused that chunk) are cut from the
// partial file.
func TestPartialFileHoldsWhatWasHashed(t *testing.T) {
	s, err := openFileSink(t.TempDir(), "img")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	st, err := s.Finish(t.Context(), false, storedSum{Size: 60})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(pathFromFileURI(st.URI))
	if err != nil || fi.Size() != 60 {
		t.Fatalf("partial file: %v, %v; want 60 bytes", fi, err)
	}
}
