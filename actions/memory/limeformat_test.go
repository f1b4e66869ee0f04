package memory

import (
	"encoding/binary"
	"errors"
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
