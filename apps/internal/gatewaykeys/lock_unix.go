//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gatewaykeys

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the file path (created 0600), blocking.
func lockDir(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}
