package main_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// command is the binary with r's directory and environment, for specs that
// start it themselves.
func (r runner) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = r.Dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.Dir}, r.Env...)
	return cmd
}

// runToFile runs the binary with standard output to the file out and returns
// the exit code, standard error and the peak resident memory of the process in
// KiB: its VmHWM in /proc/PID/status, read until it exits. (Not the rusage's
// ru_maxrss: Linux counts in it the memory of this test process, which the
// child shared until it ran exec.)
func (r runner) runToFile(out string, args ...string) (int, string, int64) {
	GinkgoHelper()
	f, err := os.Create(out)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	cmd := r.command(args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	Expect(cmd.Start()).To(Succeed())
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan struct{})
	var peak int64
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
							peak = max(peak, kib)
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	<-polled
	if _, ok := err.(*exec.ExitError); !ok {
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(peak).To(BeNumerically(">", 0), "no VmHWM read of aegis %v", args)
	return cmd.ProcessState.ExitCode(), stderr.String(), peak
}

// writeRandomFile writes n random bytes to dir/name and returns the path.
func writeRandomFile(dir, name string, n int) string {
	GinkgoHelper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	Expect(err).NotTo(HaveOccurred())
	_, err = io.CopyN(f, rand.Reader, int64(n))
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Close()).To(Succeed())
	return p
}

// textLine is the line big text categories repeat: a quote, a backslash and a
// tab, so printing it as a JSON string escapes something in every line.
const textLine = "a line of text with \"quotes\", a \\ and a\ttab: ünïcödé ✓\n"

// writeTextFile writes about n bytes of textLine to dir/name.
func writeTextFile(dir, name string, n int) (string, string) {
	GinkgoHelper()
	content := strings.Repeat(textLine, n/len(textLine))
	return writeFile(dir, name, content), content
}

var _ = Describe("aegis load, streamed", func() {
	var (
		dir  string
		user runner
	)

	BeforeEach(func() { dir, user = newVault() })

	It("runs the README's quick start: a text category and a binary one load as JSON, the binary one as a marker", func() {
		writeFile(dir, "data.json", `{"journal": {"2026-11-26": "herons"}, "settings": {"theme": "dark"}}`)
		user.ok("store", "data.json")
		writeFile(dir, "notes.txt", "buy \"milk\"\nand bread\n")
		user.ok("put", "notes", "notes.txt")
		photo := writeRandomFile(dir, "holiday.tar", 3<<20+7)
		user.ok("put", "photos", photo)
		out := user.ok("load")
		Expect(out).To(MatchJSON(`{
			"journal": {"2026-11-26": "herons"},
			"settings": {"theme": "dark"},
			"notes": "buy \"milk\"\nand bread\n",
			"photos": {"binary": true, "size": 3145735}
		}`))
		Expect(user.ok("load", "photos", "notes")).To(MatchJSON(`{"photos": {"binary": true, "size": 3145735}, "notes": "buy \"milk\"\nand bread\n"}`))
		user.ok("get", "photos", "-o", "copy.tar")
		Expect(os.ReadFile(filepath.Join(dir, "copy.tar"))).To(Equal(must(os.ReadFile(photo))))
	})

	It("names every missing category with exit 5 and prints nothing", func() {
		user.input([]byte("x")).ok("put", "a")
		res := user.fails(5, `no categories "nope", "gone" in the vault`, "load", "a", "nope", "gone", "nope")
		Expect(res.Stdout).To(BeEmpty())
	})

	It("prints an empty vault as {}", func() {
		Expect(user.ok("load")).To(MatchJSON(`{}`))
	})

	It("stays under 150 MB resident with a 200 MB binary category and a 64 MB text one, and get streams too", func() {
		user.ok("put", "photos", writeRandomFile(dir, "big.bin", 200<<20))
		textFile, text := writeTextFile(dir, "big.txt", 64<<20)
		user.ok("put", "diary", textFile)
		Expect(os.Remove(filepath.Join(dir, "big.bin"))).To(Succeed())
		Expect(os.Remove(textFile)).To(Succeed())

		out := filepath.Join(dir, "load.json")
		code, stderr, rss := user.runToFile(out, "load")
		Expect(code).To(Equal(0), stderr)
		Expect(rss).To(BeNumerically("<", 150<<10), "peak RSS of load: %d KiB", rss)
		var got map[string]any
		Expect(json.Unmarshal(must(os.ReadFile(out)), &got)).To(Succeed())
		Expect(got).To(HaveLen(2))
		Expect(got["photos"]).To(Equal(map[string]any{"binary": true, "size": float64(200 << 20)}))
		Expect(got["diary"]).To(Equal(text))
		Expect(os.Remove(out)).To(Succeed())

		code, stderr, rss = user.runToFile(filepath.Join(dir, "get.out"), "get", "photos")
		Expect(code).To(Equal(0), stderr)
		Expect(rss).To(BeNumerically("<", 150<<10), "peak RSS of get: %d KiB", rss)
		Expect(filepath.Join(dir, "get.out")).To(BeAnExistingFile())
		st, err := os.Stat(filepath.Join(dir, "get.out"))
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Size()).To(Equal(int64(200 << 20)))
	})
})

// newVault makes a vault in a new directory and returns the directory and a
// runner with its passphrase.
func newVault() (string, runner) {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	user := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + writeFile(dir, "pass", "harbor violet tractor seventeen\n")}}
	user.ok("init")
	return dir, user
}

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

var _ = Describe("SIGINT stops aegis with exit 130", func() {
	var (
		dir  string
		user runner
	)

	BeforeEach(func() { dir, user = newVault() })

	It("stops put - waiting on a pipe that stays open, and the category keeps its content", func() {
		user.input([]byte("the old content")).ok("put", "x")
		cmd := user.command("put", "x", "-")
		// A pipe in blocking mode, as a shell makes it (exec's StdinPipe is
		// non-blocking).
		var fds [2]int
		Expect(syscall.Pipe2(fds[:], syscall.O_CLOEXEC)).To(Succeed())
		r, stdin := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "to stdin")
		defer stdin.Close()
		cmd.Stdin = r
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Close()).To(Succeed())
		// 1.5 MiB: put seals and stores its first 1 MiB chunk, under the writer
		// lock, reads the rest and then waits for more, blocked in a read.
		before := len(objectFiles(filepath.Join(dir, "aegis-vault")))
		_, err = stdin.Write(bytes.Repeat([]byte("new "), 3<<17))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { return len(objectFiles(filepath.Join(dir, "aegis-vault"))) }, 20*time.Second).Should(BeNumerically(">", before))
		Expect(s.ExitCode()).To(Equal(-1), "put ended with the pipe still open")

		s.Signal(os.Interrupt)
		Eventually(s, 10*time.Second).Should(gexec.Exit(130))
		Expect(s.Err).To(gbytes.Say(`aegis: interrupted: the command stopped before it finished; a write that did not finish changed nothing`))
		Expect(user.ok("get", "x")).To(Equal("the old content"))
	})

	It("stops get and load of a big category while they write, with exit 130", func() {
		textFile, _ := writeTextFile(dir, "big.txt", 48<<20)
		user.ok("put", "diary", textFile)
		for _, args := range [][]string{{"get", "diary"}, {"load", "diary"}} {
			cmd := user.command(args...)
			stdout, err := cmd.StdoutPipe()
			Expect(err).NotTo(HaveOccurred())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			Expect(cmd.Start()).To(Succeed())
			// The pipe is not read until the signal is sent: the command cannot
			// finish before it.
			r := bufio.NewReader(stdout)
			_, err = r.Peek(4096)
			Expect(err).NotTo(HaveOccurred())
			Expect(cmd.Process.Signal(os.Interrupt)).To(Succeed())
			n, _ := io.Copy(io.Discard, r)
			err = cmd.Wait()
			Expect(cmd.ProcessState.ExitCode()).To(Equal(130), "aegis %v: %v, stderr %q", args, err, stderr.String())
			Expect(stderr.String()).To(ContainSubstring("aegis: interrupted"))
			Expect(n).To(BeNumerically("<", 48<<20), "aegis %v wrote everything", args)
		}
	})
})
