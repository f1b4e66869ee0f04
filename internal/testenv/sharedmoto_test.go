package testenv

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Each StartMoto starts from an empty account, though the server is shared.
func TestStartMotoIsEmptyEachTime(t *testing.T) {
	ctx := Context(t)
	m := StartMoto(t)
	if _, err := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true }).
		CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("left-behind")}); err != nil {
		t.Fatal(err)
	}
	again := StartMoto(t)
	out, err := s3.NewFromConfig(again.Config(), func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 0 {
		t.Fatalf("second StartMoto sees %d buckets from the first, want an empty account", len(out.Buckets))
	}
}

// The shared server dies with the test binary that started it: a child
// process (this test binary again) starts it, prints its URL and exits
// without stopping it; the URL must stop answering.
func TestSharedMotoDiesWithItsProcess(t *testing.T) {
	if os.Getenv("FIREBREAK_TESTENV_CHILD") == "1" {
		m := StartMoto(t)
		os.Stdout.WriteString("URL=" + m.URL + "\n")
		os.Exit(0) // no cleanup: only the kernel can stop the server now
	}
	if runtime.GOOS != "linux" {
		t.Skip("the shared server is Linux only; elsewhere each test stops its own")
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		Missing(t, "moto_server not found on PATH")
	}
	ctx, cancel := context.WithTimeout(Context(t), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSharedMotoDiesWithItsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FIREBREAK_TESTENV_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var url string
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		if u, ok := strings.CutPrefix(sc.Text(), "URL="); ok {
			url = u
		}
	}
	if url == "" {
		t.Fatalf("child printed no URL:\n%s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/data.json")
		if err != nil {
			return // gone, as it must be
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("moto_server at %s still answers 30s after the process that started it exited", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
