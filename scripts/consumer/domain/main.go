// Command domain uses the domain module alone: the model and its rules, standard library only.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/ai-pantheon/aegis/domain"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consumer/domain:", err)
		os.Exit(1)
	}
	fmt.Println("consumer/domain: ok")
}

func run() error {
	id, err := domain.NewObjectID(domain.DefaultRandom())
	if err != nil {
		return err
	}
	if back, err := domain.ParseObjectID(id.String()); err != nil || back != id {
		return fmt.Errorf("object id %s does not parse back: %v", id, err)
	}
	buckets := domain.DefaultBuckets()
	size, ok := buckets.Size(1000)
	if !ok || size != domain.KiB || !buckets.Allowed(size) {
		return fmt.Errorf("1000 bytes pad to %d (%v), want 1 KiB", size, ok)
	}
	payload := []byte("a payload")
	frame := make([]byte, size)
	domain.EncodeFrame(frame, payload)
	if got, err := domain.DecodeFrame(frame); err != nil || !bytes.Equal(got, payload) {
		return fmt.Errorf("frame round trip: %q, %v", got, err)
	}
	if err := domain.ValidateCategory(""); !errors.Is(err, domain.ErrInvalidInput) {
		return fmt.Errorf("the empty category name: %v, want ErrInvalidInput", err)
	}
	return nil
}
