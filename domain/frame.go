package domain

import (
	"encoding/binary"
	"fmt"
)

// FrameHeaderSize is the length prefix inside every sealed chunk.
const FrameHeaderSize = 4

// A frame is the plaintext of one sealed chunk:
//
//	uint32 big-endian payload length | payload | zero bytes up to the frame size
//
// The true length sits inside the ciphertext, so the stored size says nothing
// about it beyond the bucket.

// FrameCapacity is the largest payload a chunk of objectSize bytes holds when
// sealed with an AEAD of the given overhead.
func FrameCapacity(objectSize, overhead int) int {
	return objectSize - overhead - FrameHeaderSize
}

// EncodeFrame writes the frame for payload into frame, which must be at least
// FrameHeaderSize+len(payload) bytes; the rest of frame is zeroed. If payload
// already sits at frame[FrameHeaderSize:] it is not copied.
func EncodeFrame(frame, payload []byte) {
	n := len(payload)
	if len(frame) < FrameHeaderSize+n {
		panic("aegis: frame too small for payload")
	}
	binary.BigEndian.PutUint32(frame, uint32(n))
	body := frame[FrameHeaderSize:]
	if len(payload) > 0 && &body[0] != &payload[0] {
		copy(body, payload)
	}
	clear(body[n:])
}

// DecodeFrame returns the payload inside a frame. It rejects a length larger than
// the frame and padding that is not all zeros.
func DecodeFrame(frame []byte) ([]byte, error) {
	if len(frame) < FrameHeaderSize {
		return nil, fmt.Errorf("%w: frame of %d bytes is shorter than its header", ErrIntegrity, len(frame))
	}
	n := binary.BigEndian.Uint32(frame)
	body := frame[FrameHeaderSize:]
	if uint64(n) > uint64(len(body)) {
		return nil, fmt.Errorf("%w: frame claims %d payload bytes but holds %d", ErrIntegrity, n, len(body))
	}
	var acc byte
	for _, c := range body[n:] {
		acc |= c
	}
	if acc != 0 {
		return nil, fmt.Errorf("%w: frame padding is not zero", ErrIntegrity)
	}
	return body[:n], nil
}
