//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

// oNoatime is 0 where open(2) has no O_NOATIME: reads update access times as the
// file system's mount options say.
const oNoatime = 0
