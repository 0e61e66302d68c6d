package main_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"golang.org/x/sys/unix"
)

// onTerminal runs the binary on a pseudo-terminal and answers each prompt
// that ends in ": " with the next of answers. It returns everything written
// to the terminal and the exit code.
func onTerminal(dir string, answers []string, args ...string) (string, int) {
	GinkgoHelper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	tty, err := pty.Start(cmd)
	Expect(err).NotTo(HaveOccurred())
	defer tty.Close()
	var seen strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(tty)
		pending := answers
		var line strings.Builder
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			seen.WriteByte(b)
			line.WriteByte(b)
			if b == '\n' {
				line.Reset()
			}
			if strings.HasSuffix(strings.ToLower(line.String()), "passphrase: ") && len(pending) > 0 {
				echoOff(tty)
				_, _ = io.WriteString(tty, pending[0]+"\r")
				pending = pending[1:]
				line.Reset()
			}
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var werr error
	Eventually(waitErr, 20*time.Second).Should(Receive(&werr))
	_ = tty.Close()
	<-done
	code := 0
	if ee, ok := werr.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return seen.String(), code
}

// echoOff waits (at most 5 s) until the program has turned the terminal's
// echo off: it prints the prompt just before it does.
func echoOff(tty *os.File) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil || t.Lflag&unix.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ = Describe("aegis on a terminal", func() {
	It("prompts without echo, twice on init, and refuses a mismatch", func() {
		dir := GinkgoT().TempDir()
		out, code := onTerminal(dir, []string{"tty secret of the terminal", "tty other"}, "init")
		Expect(code).To(Equal(2), out)
		Expect(out).To(ContainSubstring("do not match"))
		Expect(filepath.Join(dir, "aegis-vault")).NotTo(BeADirectory())

		out, code = onTerminal(dir, []string{"tty secret of the terminal", "tty secret of the terminal"}, "init")
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("Passphrase: "))
		Expect(out).To(ContainSubstring("Repeat passphrase: "))
		Expect(out).NotTo(ContainSubstring("tty secret of the terminal"))

		out, code = onTerminal(dir, []string{"tty secret of the terminal"}, "ls")
		Expect(code).To(Equal(0), out)
		out, code = onTerminal(dir, []string{"wrong"}, "ls")
		Expect(code).To(Equal(3), out)
		Expect(runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=tty secret of the terminal"}}.ok("ls")).To(BeEmpty())
	})
})

var _ = Describe("aegis interrupted at its passphrase prompt", func() {
	It("stops at the first Ctrl-C with exit 130, creates nothing, and leaves the terminal's echo on", func() {
		dir := GinkgoT().TempDir()
		cmd := exec.Command(binary, "init")
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
		tty, err := pty.Start(cmd)
		Expect(err).NotTo(HaveOccurred())
		defer tty.Close()
		seen := gbytes.NewBuffer()
		go func() { _, _ = io.Copy(seen, tty) }()
		Eventually(seen, 20*time.Second).Should(gbytes.Say("Passphrase: "))
		echoOff(tty)
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		// Ctrl-C, as a user types it: the terminal sends SIGINT to the
		// foreground process.
		_, err = tty.Write([]byte{0x03})
		Expect(err).NotTo(HaveOccurred())
		var werr error
		Eventually(waitErr, 10*time.Second).Should(Receive(&werr), "one Ctrl-C stops the prompt")
		var ee *exec.ExitError
		Expect(errors.As(werr, &ee)).To(BeTrue(), "exit status: %v; terminal: %q", werr, string(seen.Contents()))
		Expect(ee.ExitCode()).To(Equal(130), string(seen.Contents()))
		Eventually(seen).Should(gbytes.Say("aegis: interrupted"))
		t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Lflag&unix.ECHO).NotTo(BeZero(), "the terminal's echo is left off")
		Expect(filepath.Join(dir, "aegis-vault")).NotTo(BeADirectory())
	})
})

var _ = Describe("aegis progress on a terminal", func() {
	It("shows a bar with the bytes of the total and the rate for put and get of 20 MiB, and none for small ones", func() {
		dir := GinkgoT().TempDir()
		runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=tty secret of the terminal"}}.ok("init")
		big := writeRandomFile(dir, "big.bin", 20<<20)
		// The last frame of the bar: 100%, the bytes of the total and the rate.
		// (The frames before it, with the time left, come every 200 ms; a fast
		// transfer may not need one: TestProgressDrawsLargeTransfersWithTotalAndRate
		// checks them.)
		done := func(verb string) string {
			return `aegis: ` + verb + ` "big" 100% \|█+\| \(20/20 MiB, [0-9.]+ [KMGT]?i?B/s\)`
		}

		out, code := onTerminal(dir, []string{"tty secret of the terminal"}, "put", "big", big)
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(done("put")))

		out, code = onTerminal(dir, []string{"tty secret of the terminal"}, "get", "big", "-o", "copy.bin")
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(done("get")))
		Expect(os.ReadFile(filepath.Join(dir, "copy.bin"))).To(Equal(must(os.ReadFile(big))))

		small := writeFile(dir, "small.txt", "a few bytes")
		out, code = onTerminal(dir, []string{"tty secret of the terminal"}, "put", "small", small)
		Expect(code).To(Equal(0), out)
		Expect(out).NotTo(ContainSubstring(`aegis: put "small"`))
	})
})
