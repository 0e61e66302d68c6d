package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestProgressStaysQuietForSmallTransfers(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, label: "put \"x\"", total: 1 << 20, interval: 0, now: time.Now}
	if _, err := io.Copy(io.Discard, progressReader{strings.NewReader(strings.Repeat("a", 1<<20)), p}); err != nil {
		t.Fatal(err)
	}
	p.done()
	if out.Len() != 0 {
		t.Fatalf("a 1 MiB transfer printed %q", out.String())
	}
}

func TestProgressDrawsLargeTransfers(t *testing.T) {
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progress{w: &out, label: "get \"movie\"", total: 16 << 20, interval: time.Second, now: func() time.Time {
		clock = clock.Add(300 * time.Millisecond)
		return clock
	}}
	w := progressWriter{io.Discard, p}
	chunk := make([]byte, 1<<20)
	for range 16 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.done()
	s := out.String()
	if !strings.Contains(s, "\raegis: get \"movie\": 8.0 MiB of 16.0 MiB (50%)") {
		t.Fatalf("no line at the threshold: %q", s)
	}
	if !strings.HasSuffix(s, "16.0 MiB of 16.0 MiB (100%)\x1b[K\n") {
		t.Fatalf("no final line: %q", s)
	}
	if n := strings.Count(s, "\r"); n >= 16 {
		t.Fatalf("%d redraws for 16 writes at a 1 s interval and 300 ms steps", n)
	}
}

func TestProgressIsNilOffATerminal(t *testing.T) {
	if p := newProgress(&bytes.Buffer{}, "put", 10); p != nil {
		t.Fatal("a meter on a buffer")
	}
	var p *progress
	p.add(1 << 30) // a nil meter counts nothing and must not panic
	p.done()
}
