package durable

import "time"

// LockKind is the kind of a file lock: Exclusive or Shared.
type LockKind int

const (
	// Exclusive excludes every other holder.
	Exclusive LockKind = iota
	// Shared excludes exclusive holders only.
	Shared
)

// Poll bounds the retry delay while another holder has the lock.
type Poll struct {
	Min, Max time.Duration
}
