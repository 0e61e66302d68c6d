package cli

import (
	"context"
	"errors"
	"io"
)

// errInterrupted is the error of a command stopped by SIGINT or SIGTERM (the
// context Main runs under was cancelled): exit code ExitInterrupted.
var errInterrupted = errors.New("interrupted: the command stopped before it finished; a write that did not finish changed nothing")

// interrupted returns errInterrupted when ctx was cancelled while the command
// ran and it failed, else err.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// ctxReader reads r in a goroutine, so that a Read blocked on a pipe or a
// terminal returns ctx.Err() as soon as ctx is done instead of waiting for data
// that may never come. After that the reader is spent: the goroutine's read
// still pending on r is abandoned.
type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	left    []byte
	err     error // of the read that left is from
	pending chan readResult
}

type readResult struct {
	n   int
	err error
}

// ctxReaderSize is the most one read of the underlying reader asks for.
const ctxReaderSize = 64 << 10

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, buf: make([]byte, ctxReaderSize)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if len(c.left) > 0 {
		n := copy(p, c.left)
		c.left = c.left[n:]
		if len(c.left) == 0 {
			return n, c.err
		}
		return n, nil
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.pending == nil {
		ch := make(chan readResult, 1)
		buf := c.buf[:min(len(p), len(c.buf))]
		go func() {
			n, err := c.r.Read(buf)
			ch <- readResult{n, err}
		}()
		c.pending = ch
	}
	select {
	case res := <-c.pending:
		c.pending = nil
		n := copy(p, c.buf[:res.n])
		c.left = c.buf[n:res.n]
		if len(c.left) > 0 {
			c.err = res.err
			return n, nil
		}
		return n, res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}
