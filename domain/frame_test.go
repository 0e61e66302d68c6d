package domain

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 100, 1020} {
		payload := bytes.Repeat([]byte{0xab}, n)
		frame := bytes.Repeat([]byte{0xff}, 1024) // dirty buffer: padding must be zeroed
		EncodeFrame(frame, payload)
		got, err := DecodeFrame(frame)
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("n=%d: got %d bytes, err %v", n, len(got), err)
		}
	}
}

func TestFrameInPlace(t *testing.T) {
	frame := make([]byte, 64)
	copy(frame[FrameHeaderSize:], "hello")
	EncodeFrame(frame, frame[FrameHeaderSize:FrameHeaderSize+5])
	got, err := DecodeFrame(frame)
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	good := make([]byte, 32)
	EncodeFrame(good, []byte("abc"))
	long := bytes.Clone(good)
	long[3] = 200
	dirty := bytes.Clone(good)
	dirty[31] = 1
	for name, f := range map[string][]byte{"short": {0, 0}, "length beyond frame": long, "non-zero padding": dirty} {
		if _, err := DecodeFrame(f); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: err = %v, want ErrIntegrity", name, err)
		}
	}
}

func TestFrameCapacity(t *testing.T) {
	if got := FrameCapacity(1024, 60); got != 960 {
		t.Fatalf("FrameCapacity = %d", got)
	}
}
