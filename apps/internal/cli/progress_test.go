package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/onsi/gomega/gbytes"
)

func TestProgressStaysQuietForSmallTransfers(t *testing.T) {
	out := gbytes.NewBuffer() // safe for the bar's spinner goroutine
	p := newBar(out, "put \"x\"", 1<<20, 0)
	if _, err := io.Copy(io.Discard, progressReader{strings.NewReader(strings.Repeat("a", 1<<20)), p}); err != nil {
		t.Fatal(err)
	}
	p.done()
	if s := string(out.Contents()); s != "" {
		t.Fatalf("a 1 MiB transfer printed %q", s)
	}
}

func TestProgressDrawsLargeTransfersWithTotalAndRate(t *testing.T) {
	out := gbytes.NewBuffer() // safe for the bar's spinner goroutine
	p := newBar(out, "get \"movie\"", 16<<20, 0)
	w := progressWriter{io.Discard, p}
	chunk := make([]byte, 1<<20)
	for range 16 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.done()
	s := string(out.Contents())
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
	out := gbytes.NewBuffer() // safe for the bar's spinner goroutine
	p := newBar(out, "put \"x\"", -1, 0)
	chunk := make([]byte, 1<<20)
	for range 10 {
		p.add(len(chunk))
	}
	p.done()
	s := string(out.Contents())
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
