package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCtxReaderPassesDataThrough(t *testing.T) {
	want := strings.Repeat("0123456789", 20000)
	r := newCtxReader(context.Background(), iotest.HalfReader(strings.NewReader(want)))
	got, err := io.ReadAll(r)
	if err != nil || string(got) != want {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(want))
	}
	if err := iotest.TestReader(newCtxReader(context.Background(), strings.NewReader(want)), []byte(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCtxReaderReturnsWhenCancelledWhileBlocked(t *testing.T) {
	pr, pw := io.Pipe() // no data ever comes
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := newCtxReader(ctx, pr)
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v, want context.Canceled", err)
	}
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Read: %v", err)
	}
}

func TestInterruptedMapsToExit130(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := ExitCode(interrupted(ctx, io.ErrUnexpectedEOF)); got != ExitInterrupted {
		t.Fatalf("exit %d, want %d", got, ExitInterrupted)
	}
	if got := interrupted(ctx, nil); got != nil {
		t.Fatalf("a command that finished despite the signal: %v", got)
	}
	if got := ExitCode(interrupted(context.Background(), io.ErrUnexpectedEOF)); got != ExitFailure {
		t.Fatalf("exit %d without a signal", got)
	}
}
