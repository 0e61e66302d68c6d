package fsblob

import "syscall"

// oNoatime opens a file or directory without updating its access time when it is
// read. Linux refuses it (EPERM) to a process that neither owns the file nor has
// CAP_FOWNER; openNoatime then opens without it.
const oNoatime = syscall.O_NOATIME
