//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/domain"
)

// nobody is the user and group id of the unprivileged user that a spec which
// root would pass regardless runs its helper process as, when it runs as root.
const nobody = 65534

// nobodyGet is what getAsNobody found.
type nobodyGet struct {
	getResult
	path string // the object's file in the helper's store
}

// getAsNobody runs, as root, Get of id by a helper process (see TestMain) that
// runs as the user nobody, on a store of its own that holds data in id's file
// at mode 0o000: a store owned by nobody, in a directory that every user may
// enter (t.TempDir's parents are 0700), beside a copy of this test binary.
// It skips only where no process can be started as nobody (no CAP_SETUID and
// CAP_SETGID) or no temporary directory is open to every user.
func getAsNobody(id domain.ObjectID, data []byte) nobodyGet {
	GinkgoHelper()
	base := openTempDir()
	dir := filepath.Join(base, "store")
	_, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	Expect(err).NotTo(HaveOccurred())
	path := objectPath(dir, id)
	Expect(os.MkdirAll(filepath.Dir(path), 0o700)).To(Succeed())
	Expect(os.WriteFile(path, data, 0o000)).To(Succeed())
	Expect(filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	})).To(Succeed())

	self, err := os.Executable()
	Expect(err).NotTo(HaveOccurred())
	bin := filepath.Join(base, filepath.Base(self))
	copyFile(self, bin, 0o755)

	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), helperEnv+"=get", dirEnv+"="+dir, idEnv+"="+id.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, GinkgoWriter)
	out, err := cmd.Output()
	if errors.Is(err, syscall.EPERM) {
		Skip("cannot start a process as the user nobody here (" + err.Error() + "), and root reads the file regardless of its mode")
	}
	Expect(err).NotTo(HaveOccurred(), "the helper running as nobody: %s", stderr.String())
	var got nobodyGet
	Expect(json.Unmarshal(out, &got.getResult)).To(Succeed(), "the helper's output: %q", out)
	got.path = path
	return got
}

// openTempDir returns a new directory that every user may enter, removed when
// the spec ends: under the first of os.TempDir(), /tmp and /var/tmp that every
// user may enter.
func openTempDir() string {
	GinkgoHelper()
	for _, parent := range []string{os.TempDir(), "/tmp", "/var/tmp"} {
		if !everyoneMayEnter(parent) {
			continue
		}
		dir, err := os.MkdirTemp(parent, "aegis-fsblob-nobody-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, dir)
		Expect(os.Chmod(dir, 0o755)).To(Succeed())
		return dir
	}
	Skip("no temporary directory that every user may enter (TMPDIR, /tmp, /var/tmp), for the helper running as nobody")
	return ""
}

// everyoneMayEnter reports whether dir and each of its ancestors are
// directories that others may search (the x bit for others).
func everyoneMayEnter(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// copyFile copies src to a new file dst with mode perm.
func copyFile(src, dst string, perm fs.FileMode) {
	GinkgoHelper()
	in, err := os.Open(src)
	Expect(err).NotTo(HaveOccurred())
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	Expect(err).NotTo(HaveOccurred())
	_, err = io.Copy(out, in)
	Expect(err).NotTo(HaveOccurred())
	Expect(out.Close()).To(Succeed())
}
