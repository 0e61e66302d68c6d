package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressThreshold is the transfer size from which put and get show progress.
const progressThreshold = 8 << 20

// progress counts the bytes of a transfer and, at most every interval, redraws
// one line on w: "aegis: put \"x\": 12.0 MiB of 48.0 MiB (25%)". total < 0 means
// unknown. It writes nothing until threshold bytes have passed, so small
// transfers stay quiet.
type progress struct {
	w        io.Writer
	label    string
	total    int64
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	n     int64
	last  time.Time
	drawn bool
}

// newProgress returns a meter on stderr when it is a terminal, else nil (a nil
// *progress counts nothing and prints nothing).
func newProgress(stderr io.Writer, label string, total int64) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: stderr, label: label, total: total, interval: 200 * time.Millisecond, now: time.Now}
}

func (p *progress) add(k int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += int64(k)
	if p.n < progressThreshold {
		return
	}
	t := p.now()
	if p.drawn && t.Sub(p.last) < p.interval {
		return
	}
	p.last = t
	p.draw()
}

func (p *progress) draw() {
	line := fmt.Sprintf("aegis: %s: %s", p.label, mib(p.n))
	if p.total > 0 {
		line += fmt.Sprintf(" of %s (%d%%)", mib(p.total), p.n*100/p.total)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// done ends the line if anything was drawn.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// progressReader and progressWriter feed a meter.
type progressReader struct {
	r io.Reader
	p *progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (w progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.add(n)
	return n, err
}
