//go:build linux

package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/local"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Crash tests: the CLI is killed with SIGKILL at random points of a write, many
// times over, and after every kill the vault must open, hold every acknowledged
// write exactly, and hold an unacknowledged write either not at all or whole.
//
// The kill points are drawn from a generator seeded with Ginkgo's random seed
// (printed; rerun with --seed to reproduce). AEGIS_CRASH_ITERATIONS sets the
// number of killed puts (default 60); the passphrase spec kills a quarter as many
// passwd runs (default 15). See docs/testing.md.

// crashIterations is the number of killed puts: AEGIS_CRASH_ITERATIONS, else 60.
func crashIterations() int {
	if s := os.Getenv("AEGIS_CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		Expect(err).NotTo(HaveOccurred(), "AEGIS_CRASH_ITERATIONS=%q", s)
		Expect(n).To(BeNumerically(">=", 4), "AEGIS_CRASH_ITERATIONS must be at least 4")
		return n
	}
	return 60
}

// seeded returns a generator seeded with Ginkgo's random seed and stream.
func seeded(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), stream))
}

// killed is one run of the binary that may have been killed.
type killed struct {
	Acked  bool // exited 0 before the kill
	Code   int  // exit code when it exited by itself (-1 when killed)
	Stderr string
}

// proc is a running aegis whose standard input is a pipe the test writes.
type proc struct {
	cmd    *exec.Cmd
	stdin  *os.File // the write end
	stderr bytes.Buffer
	exited chan struct{} // closed when Wait returned; err is set then
	err    error

	fifo     string // a named pipe the process will read, and what to write into it
	fifoData []byte
}

// feedFIFO waits until the process opens its named pipe for reading, then
// writes the pipe's data and closes it. It reports false if the process exited
// first.
func (p *proc) feedFIFO() bool {
	for {
		f, err := os.OpenFile(p.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, _ = f.Write(p.fifoData)
			_ = f.Close()
			return true
		}
		if !errors.Is(err, syscall.ENXIO) {
			return false
		}
		select {
		case <-p.exited:
			return false
		case <-time.After(100 * time.Microsecond):
		}
	}
}

func (r runner) start(args ...string) *proc {
	GinkgoHelper()
	p := &proc{cmd: exec.Command(binary, args...), exited: make(chan struct{})}
	p.cmd.Dir = r.Dir
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.Dir}, r.Env...)
	pr, pw, err := os.Pipe()
	Expect(err).NotTo(HaveOccurred())
	p.stdin = pw
	p.cmd.Stdin = pr
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = &p.stderr
	Expect(p.cmd.Start()).To(Succeed())
	Expect(pr.Close()).To(Succeed())
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	return p
}

// unread is the number of bytes in the pipe that the process has not read yet.
func (p *proc) unread() int {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, p.stdin.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0 // the pipe is closed
	}
	return int(n)
}

// drained waits until the process has read everything written to its input (so
// it has opened the vault and is sealing), or has exited.
func (p *proc) drained() {
	GinkgoHelper()
	deadline := time.Now().Add(30 * time.Second)
	for p.unread() > 0 {
		select {
		case <-p.exited:
			return
		default:
		}
		Expect(time.Now().Before(deadline)).To(BeTrue(), "aegis did not read its input")
		time.Sleep(100 * time.Microsecond)
	}
}

// killAfter sends SIGKILL after d unless the process has exited by then, and
// reports how it ended.
func (p *proc) killAfter(d time.Duration) killed {
	GinkgoHelper()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	return p.ended()
}

func (p *proc) ended() killed {
	GinkgoHelper()
	_ = p.stdin.Close()
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	Expect(ok).To(BeTrue())
	if ws.Signaled() {
		Expect(ws.Signal()).To(Equal(syscall.SIGKILL), "aegis died of %v: %s", ws.Signal(), p.stderr.String())
		return killed{Code: -1, Stderr: p.stderr.String()}
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		Expect(p.err).NotTo(HaveOccurred())
	}
	code := p.cmd.ProcessState.ExitCode()
	return killed{Acked: code == 0, Code: code, Stderr: p.stderr.String()}
}

// feed writes b to the process's standard input in pieces, ignoring the broken
// pipe of a killed process, and closes it when close is set.
func (p *proc) feed(b []byte, close bool) {
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		if _, err := p.stdin.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
	}
	if close {
		_ = p.stdin.Close()
	}
}

// watcher tells when the first file or directory is created in a directory
// store's objects tree (inotify): the moment a write reaches the store.
type watcher struct{ fd int }

func watchStore(vaultDir string) *watcher {
	GinkgoHelper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	Expect(err).NotTo(HaveOccurred())
	objects := filepath.Join(vaultDir, "objects")
	dirs := []string{objects}
	entries, err := os.ReadDir(objects)
	Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(objects, e.Name()))
		}
	}
	for _, d := range dirs {
		_, err := syscall.InotifyAddWatch(fd, d, syscall.IN_CREATE|syscall.IN_MOVED_TO)
		Expect(err).NotTo(HaveOccurred())
	}
	return &watcher{fd: fd}
}

// wait returns true when something was created, false if p exited first.
func (w *watcher) wait(p *proc) bool {
	GinkgoHelper()
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(w.fd, buf)
		if n > 0 {
			return true
		}
		Expect(err).To(Equal(syscall.EAGAIN))
		select {
		case <-p.exited:
			return false
		case <-time.After(100 * time.Microsecond):
		}
	}
}

func (w *watcher) close() { _ = syscall.Close(w.fd) }

// storeFiles is what a directory store holds: object files by name, and the
// number of temp files.
type storeFiles struct {
	Objects map[string]int64
	Temps   int
}

func scanStore(vaultDir string) storeFiles {
	GinkgoHelper()
	sf := storeFiles{Objects: map[string]int64{}}
	err := filepath.WalkDir(filepath.Join(vaultDir, "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			sf.Temps++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sf.Objects[d.Name()] = info.Size()
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return sf
}

func (a storeFiles) sameObjects(b storeFiles) bool {
	if len(a.Objects) != len(b.Objects) {
		return false
	}
	for k := range a.Objects {
		if _, ok := b.Objects[k]; !ok {
			return false
		}
	}
	return true
}

// orphanCount is the number of object files the vault does not reference.
func orphanCount(ctx context.Context, v *vault.Vault, vaultDir string) int {
	GinkgoHelper()
	st, err := v.Stats(ctx)
	Expect(err).NotTo(HaveOccurred())
	return len(scanStore(vaultDir).Objects) - st.Objects
}

// chunksOf is the number of objects a payload of n bytes becomes with the
// default buckets: one object if it fits, else 1 MiB chunks, their count
// rounded up by the policy (Padmé).
func chunksOf(n int) int {
	b := domain.DefaultBuckets()
	capMax := domain.FrameCapacity(b.Max(), 60) // crypto/aead's overhead
	if n <= capMax {
		return 1
	}
	return b.Chunks((n + capMax - 1) / capMax)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func tally(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-44s %d\n", k, m[k])
	}
	return b.String()
}

var _ = Describe("aegis killed with SIGKILL", Label("crash"), func() {
	var (
		dir      string
		vaultDir string
		user     runner
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		vaultDir = filepath.Join(dir, "aegis-vault")
		writeFile(dir, "pass", "crash test passphrase\n")
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		Expect(user.ok("init")).To(BeEmpty())
	})

	It("loses no acknowledged put, and never shows half a put", func(ctx SpecContext) {
		iterations := crashIterations()
		rng := seeded(1)
		GinkgoWriter.Printf("crash seed %d, %d killed puts\n", GinkgoRandomSeed(), iterations)
		AddReportEntry("crash seed", GinkgoRandomSeed())

		// Measure a small and a 3 MiB put: in full, and from the moment the put has
		// read all its input and the input ends (the tail: sealing the last chunk,
		// the manifest, the header swap, the deletions).
		var tSmall, tLarge, tailSmall, tailLarge []time.Duration
		measure := func(data []byte) (total, tail time.Duration) {
			st := time.Now()
			p := user.start("put", "calibration", "-")
			p.feed(data, false)
			p.drained()
			fed := time.Now()
			Expect(p.stdin.Close()).To(Succeed())
			res := p.killAfter(time.Minute)
			Expect(res.Code).To(Equal(0), res.Stderr)
			return time.Since(st), time.Since(fed)
		}
		for i := range 3 {
			total, tail := measure([]byte("calibration"))
			tSmall, tailSmall = append(tSmall, total), append(tailSmall, tail)
			total, tail = measure(bytes.Repeat([]byte{byte(i)}, 3<<20))
			tLarge, tailLarge = append(tLarge, total), append(tailLarge, tail)
		}
		user.ok("rm", "calibration")
		small, large, smallTail, largeTail := median(tSmall), median(tLarge), median(tailSmall), median(tailLarge)
		GinkgoWriter.Printf("measured: small put %v (tail %v), 3 MiB put %v (tail %v)\n", small, smallTail, large, largeTail)

		v, err := local.Open(ctx, vaultDir, []byte("crash test passphrase"), nil)
		Expect(err).NotTo(HaveOccurred())
		defer v.Close()
		Expect(v.Sweep(ctx)).To(Equal(0), "calibration left garbage")

		cats := []string{"crash-a", "crash-b", "crash-c", "crash-d", "crash-e"}
		model := map[string][]byte{} // what the vault must hold
		outcomes := map[string]int{}
		swept, tempsSeen := 0, 0
		for i := range iterations {
			cat := cats[rng.IntN(len(cats))]
			var data []byte
			if rng.IntN(2) == 0 {
				data = make([]byte, 1+rng.IntN(3000))
			} else {
				data = make([]byte, 1<<20+rng.IntN(5<<19)) // 2 to 4 chunks
			}
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			old, had := model[cat]
			before := scanStore(vaultDir)

			// Where to kill: while the input streams in (chunks are being sealed and
			// stored), after the put has read its whole input and the input ends (the
			// last chunk, the manifest, the header swap, the deletions), or anywhere
			// from the start (opening the vault included).
			mode := []string{"streaming", "after input", "anywhere"}[rng.IntN(3)]
			if mode == "streaming" && len(data) < 1<<20 {
				mode = "after input"
			}
			total, tail := small, smallTail
			if len(data) >= 1<<20 {
				total, tail = large, largeTail
			}
			p := user.start("put", cat, "-")
			var res killed
			switch mode {
			case "streaming":
				cut := 128<<10 + rng.IntN(len(data)-128<<10)
				p.feed(data[:cut], false)
				p.drained()
				res = p.killAfter(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
			case "after input":
				p.feed(data, false)
				p.drained()
				_ = p.stdin.Close()
				res = p.killAfter(time.Duration(rng.Int64N(int64(tail*3/2) + 1)))
			default:
				go p.feed(data, true)
				res = p.killAfter(time.Duration(rng.Int64N(int64(total*13/10) + 1)))
			}
			if res.Code > 0 {
				Fail(fmt.Sprintf("iteration %d: put %s exited %d by itself: %s", i, cat, res.Code, res.Stderr))
			}
			after := scanStore(vaultDir)
			tempsSeen += after.Temps
			touched := after.Temps > 0 || !after.sameObjects(before)

			// The next open: the vault opens, temp files are gone, and the category
			// holds the old content or the new one, whole; the new one if the put
			// was acknowledged.
			out := filepath.Join(dir, "out.bin")
			_ = os.Remove(out)
			got := user.run("get", cat, "-o", out)
			Expect(scanStore(vaultDir).Temps).To(BeZero(), "iteration %d: temp files survived the next open", i)
			var now []byte
			switch got.Code {
			case 0:
				now, err = os.ReadFile(out)
				Expect(err).NotTo(HaveOccurred())
			case 5:
				Expect(had).To(BeFalse(), "iteration %d: %s vanished: %s", i, cat, got.Stderr)
				Expect(res.Acked).To(BeFalse(), "iteration %d: an acknowledged put of %s is missing", i, cat)
			default:
				Fail(fmt.Sprintf("iteration %d: get %s after the kill exited %d: %s", i, cat, got.Code, got.Stderr))
			}
			committed := got.Code == 0 && bytes.Equal(now, data)
			switch {
			case res.Acked:
				Expect(committed).To(BeTrue(), "iteration %d: acknowledged put of %s (%d bytes) reads back as %d other bytes", i, cat, len(data), len(now))
			case committed:
			case got.Code == 0:
				Expect(had).To(BeTrue(), "iteration %d: %s was never stored, yet holds %d bytes that are not the killed put's", i, cat, len(now))
				Expect(bytes.Equal(now, old)).To(BeTrue(), "iteration %d: %s holds neither its old (%d bytes) nor its new content (%d bytes): %d bytes", i, cat, len(old), len(data), len(now))
			}
			if committed {
				model[cat] = data
			}

			class := "before the write (nothing touched)"
			switch {
			case res.Acked:
				class = "after completion (acknowledged)"
			case committed:
				class = "mid-write, committed, not acknowledged"
			case touched:
				class = "mid-write, not committed"
			}
			outcomes[class]++
			outcomes["mode: "+mode]++
			GinkgoWriter.Printf("put %d: %s, %d bytes, %s: %s\n", i, cat, len(data), mode, class)

			// Every category reads back exactly as the model says.
			all, err := v.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred(), "iteration %d", i)
			Expect(all).To(HaveLen(len(model)), "iteration %d", i)
			for name, want := range model {
				Expect(sha256.Sum256(all[name])).To(Equal(sha256.Sum256(want)), "iteration %d: category %s", i, name)
			}

			// What is left besides the vault's own objects is the garbage of the
			// killed put only: before its header swap, some of its new objects (data
			// and manifest); after it, the objects it replaced (the old data and the
			// old manifest). Sweep removes exactly that, and nothing the vault
			// references.
			orphans := orphanCount(ctx, v, vaultDir)
			var bound int
			switch {
			case res.Acked || !touched:
				bound = 0
			case committed && had:
				bound = chunksOf(len(old)) + 1
			case committed:
				bound = 1
			default:
				bound = chunksOf(len(data)) + 1
			}
			Expect(orphans).To(BeNumerically("<=", bound), "iteration %d (%s): %d unreferenced objects", i, class, orphans)
			// The next write through the CLI removes that garbage before it writes
			// (aegis sweeps a local vault under the writer lock): no debris of the
			// kill survives it.
			marker := fmt.Sprintf("written after kill %d", i)
			user.input([]byte(marker)).ok("put", "crash-marker")
			model["crash-marker"] = []byte(marker)
			swept += orphans
			Expect(orphanCount(ctx, v, vaultDir)).To(BeZero(), "iteration %d (%s): unreferenced objects survived the next write", i, class)
		}

		// Finally, an ordinary put and the listing.
		user.input([]byte("after the storm")).ok("put", "crash-final")
		model["crash-final"] = []byte("after the storm")
		names := slices.Sorted(maps.Keys(model))
		Expect(user.ok("ls")).To(Equal(strings.Join(names, "\n") + "\n"))

		report := fmt.Sprintf("%d killed puts (seed %d): measured small put %v (tail %v), 3 MiB put %v (tail %v)\n%s"+
			"  temp files found right after a kill: %d (all gone after the next open)\n"+
			"  unreferenced objects swept: %d\n",
			iterations, GinkgoRandomSeed(), small, smallTail, large, largeTail, tally(outcomes), tempsSeen, swept)
		AddReportEntry("crash tally: put", report)
		GinkgoWriter.Print(report)
	})

	It("keeps the vault open to exactly one of the old and the new passphrase through killed passwd runs", func(ctx SpecContext) {
		iterations := max(crashIterations()/4, 1)
		rng := seeded(2)
		GinkgoWriter.Printf("crash seed %d, %d killed passwd runs (plain and --rotate, drawn at random)\n", GinkgoRandomSeed(), iterations)

		// Content: three JSON categories and a 2 MiB binary one (3 data objects).
		writeFile(dir, "data.json", sample)
		user.ok("store", "data.json")
		bin := make([]byte, 2<<20)
		for i := range bin {
			bin[i] = byte(rng.Uint32())
		}
		user.input(bin).ok("put", "photos")
		check := func(who runner, i int) {
			GinkgoHelper()
			Expect(who.ok("load", "bookmarks", "journal", "settings")).To(MatchJSON(sample), "iteration %d", i)
			out := filepath.Join(dir, "photos.out")
			who.ok("get", "photos", "-o", out)
			got, err := os.ReadFile(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(bytes.Equal(got, bin)).To(BeTrue(), "iteration %d: photos changed", i)
		}
		as := func(pass string) runner {
			f := writeFile(dir, "pass-"+fmt.Sprint(sha256.Sum256([]byte(pass)))[:12], pass+"\n")
			return runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + f}}
		}
		stats := func(who runner) int {
			GinkgoHelper()
			var st struct{ Objects int }
			Expect(json.Unmarshal([]byte(who.ok("--json", "stats")), &st)).To(Succeed())
			return st.Objects
		}

		// The new passphrase comes through a named pipe: passwd opens it after it
		// has opened the vault, so the test knows when the run reaches the new key
		// derivation and the commit.
		fifoN := 0
		passwd := func(from, to string, rotate bool) *proc {
			fifoN++
			fifo := filepath.Join(dir, fmt.Sprintf("new-pass-%d.fifo", fifoN))
			Expect(syscall.Mkfifo(fifo, 0o600)).To(Succeed())
			args := []string{"passwd"}
			if rotate {
				args = append(args, "--rotate") // new keys, every object rewritten
			}
			p := as(from).with("AEGIS_NEW_PASSPHRASE_FILE=" + fifo).start(args...)
			_ = p.stdin.Close()
			p.fifo, p.fifoData = fifo, []byte(to+"\n")
			return p
		}

		// Measure passwd, plain and --rotate: in full, and from the moment it
		// starts writing to the store (the new manifest object; with --rotate the
		// first re-encrypted data object) to its exit.
		cur := "crash test passphrase"
		tp, tw := map[bool]time.Duration{}, map[bool]time.Duration{}
		for _, rotate := range []bool{false, true} {
			var tPasswd, tWrite []time.Duration
			for k := range 3 {
				next := fmt.Sprintf("calibration passphrase %v %d", rotate, k)
				w := watchStore(vaultDir)
				st := time.Now()
				p := passwd(cur, next, rotate)
				go p.feedFIFO()
				Expect(w.wait(p)).To(BeTrue())
				wrote := time.Now()
				res := p.killAfter(time.Minute)
				w.close()
				Expect(res.Code).To(Equal(0), res.Stderr)
				tPasswd, tWrite = append(tPasswd, time.Since(st)), append(tWrite, time.Since(wrote))
				cur = next
			}
			tp[rotate], tw[rotate] = median(tPasswd), median(tWrite)
		}
		GinkgoWriter.Printf("measured: passwd %v (writing %v), passwd --rotate %v (writing %v)\n", tp[false], tw[false], tp[true], tw[true])

		outcomes := map[string]int{}
		orphans := len(scanStore(vaultDir).Objects) - stats(as(cur))
		Expect(orphans).To(BeZero())
		for i := range iterations {
			next := fmt.Sprintf("passphrase number %d", i)
			before := scanStore(vaultDir)
			// A third of the kills anywhere in the run, the others once it has
			// started writing (the new manifest, the header swap, the deletion).
			mode := []string{"anywhere", "while writing", "while writing"}[rng.IntN(3)]
			rotate := rng.IntN(2) == 1
			kind := "passwd"
			if rotate {
				kind = "passwd --rotate"
			}
			objects := stats(as(cur)) // header, manifest and data
			w := watchStore(vaultDir)
			p := passwd(cur, next, rotate)
			go p.feedFIFO()
			var res killed
			if mode == "anywhere" || !w.wait(p) {
				res = p.killAfter(time.Duration(rng.Int64N(int64(tp[rotate]*13/10) + 1)))
			} else {
				// A rotate commits at the end of its writing: reach past it too.
				frac := map[bool]time.Duration{false: 7, true: 9}[rotate]
				res = p.killAfter(time.Duration(rng.Int64N(int64(tw[rotate]*frac/10) + 1)))
			}
			w.close()
			outcomes["mode: "+mode]++
			outcomes["kind: "+kind]++
			if res.Code > 0 {
				Fail(fmt.Sprintf("iteration %d: %s exited %d by itself: %s", i, kind, res.Code, res.Stderr))
			}
			after := scanStore(vaultDir)
			touched := after.Temps > 0 || !after.sameObjects(before)

			oldRes, newRes := as(cur).run("ls"), as(next).run("ls")
			Expect(scanStore(vaultDir).Temps).To(BeZero(), "iteration %d: temp files survived the next open", i)
			Expect([]int{oldRes.Code, newRes.Code}).To(Or(Equal([]int{0, 3}), Equal([]int{3, 0})),
				"iteration %d: old passphrase: exit %d %s; new: exit %d %s", i, oldRes.Code, oldRes.Stderr, newRes.Code, newRes.Stderr)
			wrong := oldRes
			if newRes.Code == 3 {
				wrong = newRes
			}
			Expect(wrong.Stderr).To(ContainSubstring("wrong passphrase"))
			switched := newRes.Code == 0
			if res.Acked {
				Expect(switched).To(BeTrue(), "iteration %d: an acknowledged %s did not take", i, kind)
			}
			Expect(oldRes.Stdout + newRes.Stdout).To(Equal("bookmarks\njournal\nphotos\nsettings\n"))
			class := "before the write (nothing touched)"
			switch {
			case res.Acked:
				class = "after completion (acknowledged)"
			case switched:
				class = "mid-write, committed, not acknowledged"
			case touched:
				class = "mid-write, not committed"
			}
			outcomes[kind+": "+class]++
			GinkgoWriter.Printf("%s %d: %s: %s\n", kind, i, mode, class)
			if switched {
				cur = next
			}
			check(as(cur), i)

			// A killed passwd leaves at most one manifest object behind (the new one
			// if it did not commit, the old one if it did); never a data object. A
			// killed passwd --rotate leaves at most one vault's worth of objects
			// (the new ones if it did not commit, the old ones if it did). Every
			// passwd first sweeps what the previous kill left, so what is left now
			// is this kill's only, unless the kill came before that sweep finished:
			// then it is at most what the previous kill left.
			now := len(scanStore(vaultDir).Objects) - stats(as(cur))
			bound := 1
			if rotate {
				bound = objects - 1
			}
			bound = max(bound, orphans)
			Expect(now).To(BeNumerically("<=", bound), "iteration %d (%s, %s)", i, kind, class)
			if res.Acked {
				Expect(now).To(BeZero(), "iteration %d (%s, %s): garbage after a completed run", i, kind, class)
			}
			orphans = now
		}

		// Sweep, in process, removes exactly that garbage and nothing else.
		v, err := local.Open(ctx, vaultDir, []byte(cur), nil)
		Expect(err).NotTo(HaveOccurred())
		defer v.Close()
		Expect(v.Sweep(ctx)).To(Equal(orphans))
		Expect(orphanCount(ctx, v, vaultDir)).To(BeZero())
		check(as(cur), iterations)

		report := fmt.Sprintf("%d killed passwd runs (seed %d): measured passwd %v (writing %v), passwd --rotate %v (writing %v)\n%s  unreferenced objects swept at the end: %d\n",
			iterations, GinkgoRandomSeed(), tp[false], tw[false], tp[true], tw[true], tally(outcomes), orphans)
		AddReportEntry("crash tally: passwd", report)
		GinkgoWriter.Print(report)
	})
})
