//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/domain"
)

// childTimeout bounds how long a spec waits for a helper process (race-enabled
// binaries start slowly).
const childTimeout = 30 * time.Second

// startHelper re-executes the test binary as a helper process (see TestMain) and
// kills it when the spec ends. stdin, if not nil, receives the pipe to its stdin.
func startHelper(mode string, stdin *io.WriteCloser, env ...string) *gexec.Session {
	GinkgoHelper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	if stdin != nil {
		w, err := cmd.StdinPipe()
		Expect(err).NotTo(HaveOccurred())
		*stdin = w
	}
	session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { session.Kill().Wait(childTimeout) })
	return session
}

func newID() domain.ObjectID {
	GinkgoHelper()
	id, err := domain.NewObjectID(nil)
	Expect(err).NotTo(HaveOccurred())
	return id
}

// objectPath is where the layout puts id's file in the store at dir.
func objectPath(dir string, id domain.ObjectID) string {
	s := id.String()
	return filepath.Join(dir, "objects", s[:2], s)
}

// tempFiles lists the ".tmp-" files anywhere under dir.
func tempFiles(dir string) []string {
	GinkgoHelper()
	var found []string
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			found = append(found, path)
		}
		return nil
	})).To(Succeed())
	return found
}

// lockTimesOut checks that Lock cannot be taken within a short deadline.
func lockTimesOut(store *fsblob.Store) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	unlock, err := store.Lock(ctx)
	if err == nil {
		Expect(unlock()).To(Succeed())
	}
	Expect(err).To(MatchError(context.DeadlineExceeded))
}

var _ = Describe("Store", func() {
	var (
		ctx   context.Context
		dir   string
		store *fsblob.Store
	)

	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		DeferCleanup(cancel)
		dir = filepath.Join(GinkgoT().TempDir(), "parent", "store")
		var err error
		store, err = fsblob.Open(dir, &fsblob.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
	})

	Describe("Open", func() {
		It("fails with ErrNotFound, naming the directory, when the directory is missing and Create is off", func() {
			missing := filepath.Join(GinkgoT().TempDir(), "missing")
			_, err := fsblob.Open(missing, nil)
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(err.Error()).To(HavePrefix("aegis/fsblob: "))
			Expect(err.Error()).To(ContainSubstring(missing))
			Expect(missing).NotTo(BeAnExistingFile())
		})

		It("creates the directory and its missing parents with mode 0700 when Create is on", func() {
			for _, d := range []string{dir, filepath.Dir(dir), filepath.Join(dir, "objects")} {
				fi, err := os.Stat(d)
				Expect(err).NotTo(HaveOccurred())
				Expect(fi.IsDir()).To(BeTrue())
				Expect(fi.Mode().Perm()).To(Equal(fs.FileMode(0o700)), d)
			}
		})

		It("opens an existing directory without Create", func() {
			id := newID()
			Expect(store.Put(ctx, id, []byte("kept"))).To(Succeed())
			again, err := fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.Get(ctx, id)).To(Equal([]byte("kept")))
		})

		It("rejects a path that is not a directory", func() {
			file := filepath.Join(GinkgoT().TempDir(), "file")
			Expect(os.WriteFile(file, nil, 0o600)).To(Succeed())
			_, err := fsblob.Open(file, &fsblob.Options{Create: true})
			Expect(err).To(MatchError(ContainSubstring("not a directory")))
			Expect(err.Error()).To(HavePrefix("aegis/fsblob: "))
		})
	})

	Describe("files on disk", func() {
		var id, header domain.ObjectID

		BeforeEach(func() {
			id, header = newID(), newID()
			Expect(store.Put(ctx, id, []byte("object"))).To(Succeed())
			v, err := store.CompareAndSwap(ctx, header, "", []byte("header 1"))
			Expect(err).NotTo(HaveOccurred())
			_, err = store.CompareAndSwap(ctx, header, v, []byte("header 2"))
			Expect(err).NotTo(HaveOccurred())
			_, err = store.CompareAndSwap(ctx, header, v, []byte("stale"))
			Expect(err).To(MatchError(domain.ErrConflict))
			unlock, err := store.Lock(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(unlock()).To(Succeed())
		})

		It("puts each object at objects/<first 2 hex>/<64 hex>", func() {
			Expect(os.ReadFile(objectPath(dir, id))).To(Equal([]byte("object")))
			Expect(os.ReadFile(objectPath(dir, header))).To(Equal([]byte("header 2")))
		})

		It("makes files 0600 and directories 0700", func() {
			n := 0
			Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				Expect(err).NotTo(HaveOccurred())
				fi, err := d.Info()
				Expect(err).NotTo(HaveOccurred())
				if d.IsDir() {
					Expect(fi.Mode().Perm()).To(Equal(fs.FileMode(0o700)), path)
				} else {
					Expect(fi.Mode().IsRegular()).To(BeTrue(), path)
					Expect(fi.Mode().Perm()).To(Equal(fs.FileMode(0o600)), path)
				}
				n++
				return nil
			})).To(Succeed())
			Expect(n).To(BeNumerically(">=", 6)) // store, objects, 2 shards or 1, 2 objects, lock files
		})

		It("leaves no .tmp- file behind after Put, CompareAndSwap and a conflicting CompareAndSwap", func() {
			Expect(tempFiles(dir)).To(BeEmpty())
		})
	})

	Describe("debris left by a crashed writer", func() {
		var (
			id     domain.ObjectID
			debris []string
		)

		leaveDebris := func() {
			GinkgoHelper()
			for _, p := range debris {
				Expect(os.WriteFile(p, []byte("half a write"), 0o600)).To(Succeed())
			}
		}

		BeforeEach(func() {
			id = newID()
			Expect(store.Put(ctx, id, []byte("survivor"))).To(Succeed())
			shard := filepath.Dir(objectPath(dir, id))
			debris = []string{
				filepath.Join(shard, ".tmp-123456789"),
				filepath.Join(dir, "objects", ".tmp-987654321"),
			}
			leaveDebris()
		})

		It("is removed by the next Open", func() {
			_, err := fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(tempFiles(dir)).To(BeEmpty())
			Expect(store.Get(ctx, id)).To(Equal([]byte("survivor")))
		})

		It("is kept while another writer holds the writer lock", func() {
			unlock, err := store.Lock(ctx)
			Expect(err).NotTo(HaveOccurred())
			_, err = fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(tempFiles(dir)).To(ConsistOf(debris))

			Expect(unlock()).To(Succeed())
			_, err = fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(tempFiles(dir)).To(BeEmpty())
		})

		It("is kept while the lock is held by another process", func() {
			child := startHelper("lock", nil, dirEnv+"="+dir, holdEnv+"=1m")
			Eventually(child, childTimeout).Should(gbytes.Say("locked"))
			leaveDebris() // again: the child's own Open removed the first ones
			_, err := fsblob.Open(dir, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(tempFiles(dir)).To(ConsistOf(debris))
		})
	})

	Describe("List", func() {
		It("yields only object ids, ignoring every other file", func() {
			a, b := newID(), newID()
			Expect(store.Put(ctx, a, []byte("a"))).To(Succeed())
			Expect(store.Put(ctx, b, []byte("b"))).To(Succeed())

			shard := filepath.Dir(objectPath(dir, a))
			c := newID()
			// Two-hex prefixes distinct from this shard and from each other: an id
			// filed under the wrong shard, and a directory named like an id.
			var prefixes []string
			for i := 0; len(prefixes) < 2; i++ {
				if p := fmt.Sprintf("%02x", i); p != filepath.Base(shard) {
					prefixes = append(prefixes, p)
				}
			}
			wrongShard := prefixes[0] + c.String()[2:]
			Expect(os.WriteFile(filepath.Join(shard, ".tmp-42"), nil, 0o600)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(shard, strings.ToUpper(c.String())), nil, 0o600)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(shard, c.String()+".bak"), nil, 0o600)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(shard, wrongShard), nil, 0o600)).To(Succeed())
			Expect(os.Mkdir(filepath.Join(shard, prefixes[1]+c.String()[2:]), 0o700)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "objects", c.String()), nil, 0o600)).To(Succeed())
			Expect(os.Mkdir(filepath.Join(dir, "objects", "zz"), 0o700)).To(Succeed())

			var got []domain.ObjectID
			Expect(store.List(ctx, func(id domain.ObjectID) error {
				got = append(got, id)
				return nil
			})).To(Succeed())
			Expect(got).To(ConsistOf(a, b))
		})
	})

	Describe("Get of a path that is not an object file", func() {
		var id domain.ObjectID
		var path string

		BeforeEach(func() {
			id = newID()
			path = objectPath(dir, id)
			Expect(os.MkdirAll(filepath.Dir(path), 0o700)).To(Succeed())
		})

		expectClearError := func(err error) {
			GinkgoHelper()
			Expect(err).To(HaveOccurred())
			Expect(err).NotTo(MatchError(domain.ErrNotFound))
			Expect(err.Error()).To(HavePrefix("aegis/fsblob: get " + id.String()))
			Expect(err.Error()).To(ContainSubstring(path))
		}

		It("reports a directory", func() {
			Expect(os.Mkdir(path, 0o700)).To(Succeed())
			_, err := store.Get(ctx, id)
			expectClearError(err)
			Expect(err.Error()).To(ContainSubstring("not a regular file"))
		})

		It("reports a symbolic link instead of following it", func() {
			target := filepath.Join(GinkgoT().TempDir(), "elsewhere")
			Expect(os.WriteFile(target, []byte("outside the store"), 0o600)).To(Succeed())
			Expect(os.Symlink(target, path)).To(Succeed())
			_, err := store.Get(ctx, id)
			expectClearError(err)
		})

		It("reports a FIFO instead of blocking on it", func() {
			Expect(syscall.Mkfifo(path, 0o600)).To(Succeed())
			_, _, err := store.GetVersioned(ctx, id)
			expectClearError(err)
		})

		It("reports a file it may not read", func() {
			if os.Geteuid() != 0 {
				Expect(os.WriteFile(path, []byte("secret"), 0o000)).To(Succeed())
				_, err := store.Get(ctx, id)
				expectClearError(err)
				Expect(err).To(MatchError(fs.ErrPermission))
				return
			}
			// Root reads files whatever their mode (and CI runs as root): a
			// helper process running as the unprivileged user nobody does the
			// Get, in a store of its own that it may enter.
			got := getAsNobody(id, []byte("secret"))
			Expect(got.UID).To(Equal(nobody), "the helper ran as uid %d", got.UID)
			Expect(got.Err).NotTo(BeEmpty(), "Get as nobody succeeded")
			Expect(got.NotFound).To(BeFalse(), got.Err)
			Expect(got.Err).To(HavePrefix("aegis/fsblob: get " + id.String()))
			Expect(got.Err).To(ContainSubstring(got.path))
			Expect(got.Permission).To(BeTrue(), "not fs.ErrPermission: %s", got.Err)
		})
	})

	Describe("the writer lock across processes", func() {
		It("makes Lock wait until the holding process releases it", func() {
			child := startHelper("lock", nil, dirEnv+"="+dir, holdEnv+"=400ms")
			Eventually(child, childTimeout).Should(gbytes.Say("locked"))
			start := time.Now()
			lockTimesOut(store)

			unlock, err := store.Lock(ctx)
			Expect(err).NotTo(HaveOccurred())
			waited := time.Since(start)
			Eventually(child, childTimeout).Should(gbytes.Say("unlocked"))
			Eventually(child, childTimeout).Should(gexec.Exit(0))
			Expect(unlock()).To(Succeed())
			Expect(waited).To(BeNumerically(">=", 200*time.Millisecond))
		})

		It("is released by the kernel when the holder is killed with SIGKILL", func() {
			child := startHelper("lock", nil, dirEnv+"="+dir, holdEnv+"=10m")
			Eventually(child, childTimeout).Should(gbytes.Say("locked"))
			lockTimesOut(store)

			Expect(child.Command.Process.Signal(syscall.SIGKILL)).To(Succeed())
			Eventually(child.Exited, childTimeout).Should(BeClosed())
			status := child.Command.ProcessState.Sys().(syscall.WaitStatus)
			Expect(status.Signaled() && status.Signal() == syscall.SIGKILL).To(BeTrue(), "child exit status %v", status)

			lockCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			unlock, err := store.Lock(lockCtx)
			Expect(err).NotTo(HaveOccurred())
			Expect(unlock()).To(Succeed())
		})
	})

	Describe("CompareAndSwap across processes", func() {
		It("loses no update when two processes each increment a counter 50 times", func() {
			counter := newID()
			_, err := store.CompareAndSwap(ctx, counter, "", []byte("0"))
			Expect(err).NotTo(HaveOccurred())

			env := []string{dirEnv + "=" + dir, idEnv + "=" + counter.String(), countEnv + "=50"}
			var stdins [2]io.WriteCloser
			var children [2]*gexec.Session
			for i := range children {
				children[i] = startHelper("increment", &stdins[i], env...)
			}
			for _, child := range children {
				Eventually(child, childTimeout).Should(gbytes.Say("ready"))
			}
			for _, stdin := range stdins {
				_, err := io.WriteString(stdin, "go\n")
				Expect(err).NotTo(HaveOccurred())
				Expect(stdin.Close()).To(Succeed())
			}
			for _, child := range children {
				Eventually(child, 2*childTimeout).Should(gexec.Exit(0))
				Expect(child).To(gbytes.Say("done after"))
			}
			Expect(store.Get(ctx, counter)).To(Equal([]byte("100")))
			Expect(tempFiles(dir)).To(BeEmpty())
		})
	})
})
