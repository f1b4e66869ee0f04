package s3store

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// gatedAPI is a fake of the multipart calls whose UploadPart waits until
// the test lets it return: it shows how far Put reads ahead of S3.
type gatedAPI struct {
	API
	started  chan int32    // part numbers, as uploads begin
	release  chan struct{} // one receive lets one upload return
	returned atomic.Int64
	mu       sync.Mutex
	size     int64
}

func (g *gatedAPI) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u1")}, nil
}

func (g *gatedAPI) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n, _ := io.Copy(io.Discard, in.Body)
	g.started <- *in.PartNumber
	<-g.release
	g.mu.Lock()
	g.size += n
	g.mu.Unlock()
	g.returned.Add(1)
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprint(*in.PartNumber))}, nil
}

func (g *gatedAPI) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (g *gatedAPI) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(g.size), VersionId: aws.String("v1")}, nil
}

// boundedReader yields total bytes and records whether it was ever read
// further ahead of the returned uploads than limit parts allow.
type boundedReader struct {
	left, read, part int64
	buffers          int64 // parts that may be held at once
	g                *gatedAPI
	over             atomic.Int64  // bytes read past the bound, at worst
	reads            chan struct{} // one send per whole part read
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.left)
	b.left -= n
	b.read += n
	if ahead := b.read - (b.g.returned.Load()+b.buffers)*b.part; ahead > b.over.Load() {
		b.over.Store(ahead)
	}
	for range b.read/b.part - (b.read-n)/b.part {
		b.reads <- struct{}{}
	}
	return int(n), nil
}

func TestPutMemoryIsBounded(t *testing.T) {
	t.Parallel()
	const conc, parts = 2, 12
	g := &gatedAPI{started: make(chan int32), release: make(chan struct{})}
	st, _ := New(g, "s3://b")
	st.PartSize, st.Concurrency = MinPartSize, conc
	r := &boundedReader{left: parts * MinPartSize, part: MinPartSize, buffers: conc + 1, g: g, reads: make(chan struct{}, parts)}
	done := make(chan error, 1)
	go func() {
		_, err := st.Put(context.Background(), "c/mem", r)
		done <- err
	}()
	// Before letting upload i return, wait until Put has read all it may
	// hold (i-1 returned + conc+1 buffers): a Put that reads further ahead
	// gets the chance to, and is caught by the reader.
	read := 0
	for i := 1; i <= parts; i++ {
		for ; read < min(i-1+conc+1, parts); read++ {
			<-r.reads
		}
		<-g.started
		g.release <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if over := r.over.Load(); over > 0 {
		t.Fatalf("Put read %d bytes beyond %d buffered parts while uploads were blocked", over, conc+1)
	}
	if g.size != parts*MinPartSize {
		t.Fatalf("uploaded %d bytes, want %d", g.size, parts*MinPartSize)
	}
}
