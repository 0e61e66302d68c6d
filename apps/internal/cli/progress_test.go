package cli

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the bar's spinner goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressStaysQuietForSmallTransfers(t *testing.T) {
	var out syncBuffer
	p := newBar(&out, "put \"x\"", 1<<20, 0)
	if _, err := io.Copy(io.Discard, progressReader{strings.NewReader(strings.Repeat("a", 1<<20)), p}); err != nil {
		t.Fatal(err)
	}
	p.done()
	if s := out.String(); s != "" {
		t.Fatalf("a 1 MiB transfer printed %q", s)
	}
}

func TestProgressDrawsLargeTransfersWithTotalAndRate(t *testing.T) {
	var out syncBuffer
	p := newBar(&out, "get \"movie\"", 16<<20, 0)
	w := progressWriter{io.Discard, p}
	chunk := make([]byte, 1<<20)
	for range 16 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.done()
	s := out.String()
	// "8.0/16 MiB": done of the total; "[0s:0s]": time spent and left.
	for _, want := range []string{"aegis: get \"movie\"", "(8.0/16 MiB, ", "(16/16 MiB, ", "/s)", "[0s:0s]"} {
		if !strings.Contains(s, want) {
			t.Fatalf("no %q in %q", want, s)
		}
	}
	if strings.Contains(s, " 0 B/16 MiB") || strings.Contains(s, "(1.0 MiB/16 MiB") {
		t.Fatalf("drawn before the threshold: %q", s)
	}
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("no final newline: %q", s)
	}
}

func TestProgressOfUnknownTotalShowsBytesAndRate(t *testing.T) {
	var out syncBuffer
	p := newBar(&out, "put \"x\"", -1, 0)
	chunk := make([]byte, 1<<20)
	for range 10 {
		p.add(len(chunk))
	}
	p.done()
	s := out.String()
	if !strings.Contains(s, "10 MiB") || !strings.Contains(s, "/s") || !strings.HasSuffix(s, "\n") {
		t.Fatalf("unexpected bar %q", s)
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
