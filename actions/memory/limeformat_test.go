package memory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

func TestLimeParser(t *testing.T) {
	good := limeImage(30, [2]uint64{0x1000, 0x1fff}, [2]uint64{0x8000, 0x80ff})
	mutate := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	second := limeHeaderSize + 0x1000
	overlap := append([]byte(nil), good[:second]...)
	overlap = appendLimeRange(overlap, 0x1800, 0x18ff)
	overlap = append(overlap, make([]byte, 0x100)...)
	tests := []struct {
		name   string
		data   []byte
		want   error // nil = valid
		ranges int
	}{
		{name: "valid", data: good, ranges: 2},
		{name: "empty", data: nil, want: ErrTruncated},
		{name: "bad magic", data: mutate(second, 0xdeadbeef), want: ErrLiMEFormat},
		{name: "bad version", data: mutate(second+4, 2), want: ErrLiMEFormat},
		{name: "end before start", data: mutate(16, 0), want: ErrLiMEFormat},
		{name: "overlapping range", data: overlap, want: ErrLiMEFormat},
		{name: "cut in a range", data: good[:len(good)-1], want: ErrTruncated},
		{name: "cut in a header", data: good[:second+10], want: ErrTruncated},
	}
	for _, tc := range tests {
		// Every chunking must give the same answer: headers straddle reads.
		for _, chunk := range []int{1, 7, 31, 32, 33, 4096, 1 << 20} {
			p := &limeParser{}
			var err error
			for off := 0; off < len(tc.data) && err == nil; off += chunk {
				_, err = p.Write(tc.data[off:min(off+chunk, len(tc.data))])
			}
			if err == nil {
				err = p.Finish()
			}
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("%s, chunks of %d: error = %v, want %v", tc.name, chunk, err, tc.want)
			}
			if tc.want == nil && (len(p.Ranges) != tc.ranges || p.wireSize() != int64(len(tc.data))) {
				t.Fatalf("%s: %d ranges, wire size %d; want %d, %d", tc.name, len(p.Ranges), p.wireSize(), tc.ranges, len(tc.data))
			}
		}
	}
}

func FuzzLimeParser(f *testing.F) {
	f.Add(limeImage(31, [2]uint64{0, 63}))
	f.Add([]byte("EMiL"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &limeParser{}
		if _, err := p.Write(data); err == nil {
			_ = p.Finish()
		}
	})
}

func TestLimeLayout(t *testing.T) {
	t.Parallel()
	var img []byte
	img = appendLimeRange(img, 0x1000, 0x1fff)
	img = append(img, make([]byte, 0x1000)...)
	img = appendLimeRange(img, 0x100000, 0x1003ff)
	img = append(img, make([]byte, 0x400)...)
	segs, err := LimeLayout(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	want := []LimeSegment{{LimeRange{0x1000, 0x1fff}, 32}, {LimeRange{0x100000, 0x1003ff}, 32 + 0x1000 + 32}}
	if !reflect.DeepEqual(segs, want) {
		t.Fatalf("segments %+v, want %+v", segs, want)
	}
	for _, tc := range []struct {
		off  int64
		want uint64
		ok   bool
	}{{32, 0x1000, true}, {32 + 0xfff, 0x1fff, true}, {32 + 0x1000, 0, false}, {32 + 0x1000 + 32 + 5, 0x100005, true}, {0, 0, false}, {int64(len(img)), 0, false}} {
		if got, ok := Physical(segs, tc.off); got != tc.want || ok != tc.ok {
			t.Errorf("Physical(%d) = %#x, %v; want %#x, %v", tc.off, got, ok, tc.want, tc.ok)
		}
	}
	if _, err := LimeLayout(bytes.NewReader(img[:len(img)-1]), int64(len(img)-1)); !errors.Is(err, ErrTruncated) {
		t.Errorf("a cut image: %v, want ErrTruncated", err)
	}
	if _, err := LimeLayout(bytes.NewReader(make([]byte, 64)), 64); !errors.Is(err, ErrLiMEFormat) {
		t.Errorf("not LiME: %v, want ErrLiMEFormat", err)
	}
}
