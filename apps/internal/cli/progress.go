package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressThreshold is the transfer size from which put and get show progress.
const progressThreshold = 8 << 20

// progress counts the bytes of a transfer on a progressbar (bytes done and the
// total, the rate, and the time left when the total is known; total < 0 means
// unknown: a spinner, the bytes done, the rate and the time spent). The bar
// counts from the start, so its rate is right, but it writes nothing until
// threshold bytes have passed: small transfers stay quiet.
type progress struct {
	bar  *progressbar.ProgressBar
	gate *gate
}

// gate passes the bar's output to w once open.
type gate struct {
	mu    sync.Mutex
	w     io.Writer
	open  bool
	drawn bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		return len(p), nil
	}
	g.drawn = true
	return g.w.Write(p)
}

// newProgress returns a meter on stderr when it is a terminal, else nil (a nil
// *progress counts nothing and prints nothing).
func newProgress(stderr io.Writer, label string, total int64) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return newBar(stderr, label, total, 200*time.Millisecond)
}

func newBar(w io.Writer, label string, total int64, throttle time.Duration) *progress {
	if total == 0 {
		total = -1
	}
	g := &gate{w: w}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g),
		progressbar.OptionSetDescription("aegis: "+label),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(total < 0),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(g) }),
	)
	bar.StartWithoutRender()
	return &progress{bar: bar, gate: g}
}

func (p *progress) add(k int) {
	if p == nil {
		return
	}
	st := p.bar.State()
	if !p.opened() && int64(st.CurrentBytes)+int64(k) >= progressThreshold {
		p.gate.mu.Lock()
		p.gate.open = true
		p.gate.mu.Unlock()
	}
	_ = p.bar.Add64(int64(k))
}

func (p *progress) opened() bool {
	p.gate.mu.Lock()
	defer p.gate.mu.Unlock()
	return p.gate.open
}

// done ends the line if anything was drawn: the bar as it stands (a failed
// transfer stops short of its total).
func (p *progress) done() {
	if p == nil || p.bar.IsFinished() {
		return
	}
	p.gate.mu.Lock()
	drawn := p.gate.drawn
	p.gate.mu.Unlock()
	if drawn {
		_ = p.bar.Exit() // ends the line (OptionOnCompletion)
	}
}

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
