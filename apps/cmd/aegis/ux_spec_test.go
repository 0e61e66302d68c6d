package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// strongPassphrase scores 4 of 4 with zxcvbn.
const strongPassphrase = "harbor violet tractor seventeen"

// expectOneCleanLine expects the standard error of a failed run to be one line
// with one "aegis: " prefix and none of the libraries' internals.
func expectOneCleanLine(res result) {
	GinkgoHelper()
	line := strings.TrimSuffix(res.Stderr, "\n")
	Expect(line).NotTo(ContainSubstring("\n"), "stderr %q", res.Stderr)
	Expect(line).To(HavePrefix("aegis: "))
	Expect(strings.Count(line, "aegis: ")).To(Equal(1), "stderr %q", res.Stderr)
	for _, internal := range []string{"privacypass:", "token request:", "aegis/", "open: open:", "dial tcp"} {
		Expect(line).NotTo(ContainSubstring(internal), "stderr %q", res.Stderr)
	}
}

var _ = Describe("aegis --version and shell completion", func() {
	var user runner
	BeforeEach(func() { user = runner{Dir: GinkgoT().TempDir()} })

	It("prints its name and build with --version and -v", func() {
		for _, flag := range []string{"--version", "-v"} {
			res := user.run(flag)
			Expect(res.Code).To(Equal(0), "stderr %q", res.Stderr)
			Expect(res.Stdout).To(MatchRegexp(`^aegis version \S.*\n$`))
			Expect(res.Stderr).To(BeEmpty())
		}
	})

	It("prints the completion script of bash, zsh and fish, and bash parses it", func() {
		for _, shell := range []string{"bash", "zsh", "fish"} {
			res := user.run("completion", shell)
			Expect(res.Code).To(Equal(0), "completion %s: stderr %q", shell, res.Stderr)
			Expect(strings.TrimSpace(res.Stdout)).NotTo(BeEmpty())
			Expect(res.Stdout).To(ContainSubstring("aegis"))
			if shell == "bash" {
				if bash, err := exec.LookPath("bash"); err == nil {
					cmd := exec.Command(bash, "-n")
					cmd.Stdin = strings.NewReader(res.Stdout)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					Expect(cmd.Run()).To(Succeed(), "bash -n: %s", stderr.String())
				}
			}
		}
		Expect(user.ok("--help")).To(ContainSubstring("completion"))
	})

	It("refuses an unknown or missing shell with exit code 2, naming the supported ones", func() {
		expectOneCleanLine(user.fails(2, `aegis: completion: unknown shell "tcsh": want one of bash, zsh, fish, pwsh`, "completion", "tcsh"))
		expectOneCleanLine(user.fails(2, "aegis: completion: name the shell: bash, zsh, fish, pwsh", "completion"))
	})
})

var _ = Describe("aegis usage errors", func() {
	var user runner
	BeforeEach(func() {
		dir := GinkgoT().TempDir()
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=" + strongPassphrase}}
	})

	It("exit with code 2 and say what was wrong", func() {
		expectOneCleanLine(user.fails(2, `aegis: --remote "127.0.0.1:8080": want the http(s) base URL of an aegisd, without user, query or fragment: it starts with http:// or https://`,
			"--remote", "127.0.0.1:8080", "--attest-secret-file", "nowhere", "ls"))
		expectOneCleanLine(user.with("AEGIS_REMOTE=127.0.0.1:8080").fails(2, "it starts with http:// or https://", "tokens", "fetch"))
		expectOneCleanLine(user.fails(2, `aegis: unknown command "frobnicate" (see aegis --help)`, "frobnicate"))
		expectOneCleanLine(user.fails(2, "aegis: usage: aegis get CATEGORY", "get"))
		expectOneCleanLine(user.fails(2, "aegis: usage: aegis rm CATEGORY", "rm", "a", "b"))
		expectOneCleanLine(user.fails(2, "aegis: unknown flag --bogus", "--bogus", "ls"))
		expectOneCleanLine(user.fails(2, `aegis: --cover "many": want a whole number`, "--cover", "many", "ls"))
		expectOneCleanLine(user.fails(2, `aegis: --window "soon": want a duration`, "--window", "soon", "ls"))
		expectOneCleanLine(user.fails(2, `aegis: init: --kdf "scrypt": want pbkdf2 or argon2id`, "init", "--kdf", "scrypt"))
		// Checked before anything is sent: the closed port is never tried.
		expectOneCleanLine(user.fails(2, `aegis: the attestation secret file nowhere (--attest-secret-file) cannot be read: no such file or directory`,
			"--remote", "http://127.0.0.1:1", "--attest-secret-file", "nowhere", "ls"))
		entries, err := os.ReadDir(user.Dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "a usage error created files")
	})
})

var _ = Describe("aegis on a server it cannot reach", func() {
	It("says the host name does not resolve, in one line with exit code 1", func() {
		user := runner{Dir: GinkgoT().TempDir(), Env: []string{"AEGIS_REMOTE=" + unresolvableRemote, "AEGIS_ATTEST_SECRET_FILE=" + secretFile}}
		expectOneCleanLine(user.fails(1, "aegis: cannot reach the server at "+unresolvableRemote+
			" (its host name does not resolve): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right", "tokens", "fetch", "--count", "1"))
	})

	It("says the relay cannot reach its gateway, in one line with exit code 1", func() {
		relay := startRelay("http://127.0.0.1:1")
		user := runner{Dir: GinkgoT().TempDir(), Env: []string{"AEGIS_REMOTE=" + unresolvableRemote, "AEGIS_RELAY=" + relay, "AEGIS_ATTEST_SECRET_FILE=" + secretFile}}
		expectOneCleanLine(user.fails(1, "aegis: the relay at "+relay+" cannot reach its gateway, aegisd (gateway_unreachable): check that aegisd runs and that aegis-relay's --gateway is right",
			"tokens", "fetch", "--count", "1"))
	})
})

var _ = Describe("aegis passphrase policy", func() {
	var (
		dir   string
		vault string
		user  runner
	)
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		vault = filepath.Join(dir, "vault")
		user = runner{Dir: dir, Env: []string{"AEGIS_VAULT=" + vault}}
	})

	It("refuses a weak new passphrase on init with exit code 2, saying why, and creates nothing", func() {
		for _, weak := range []string{"abc", "x", "password123", "another one"} {
			res := user.with("AEGIS_PASSPHRASE="+weak).fails(2, "aegis: the new passphrase is too weak (zxcvbn score ", "init")
			expectOneCleanLine(res)
			Expect(res.Stderr).To(ContainSubstring("want 3 or more"))
			Expect(res.Stderr).To(ContainSubstring("guessing at 10,000 a second would find it in "))
			Expect(res.Stderr).To(ContainSubstring("--allow-weak-passphrase"))
			Expect(vault).NotTo(BeADirectory())
		}
		Expect(user.with("AEGIS_PASSPHRASE=password123").fails(2, "", "init").Stderr).To(ContainSubstring("it is or contains a common password"))
		Expect(user.with("AEGIS_PASSPHRASE=x").fails(2, "", "init").Stderr).To(ContainSubstring("it is too short"))
	})

	It("accepts a weak passphrase with --allow-weak-passphrase, and a strong one without", func() {
		weak := user.with("AEGIS_PASSPHRASE=abc")
		Expect(weak.ok("init", "--allow-weak-passphrase")).To(BeEmpty())
		Expect(weak.ok("ls")).To(BeEmpty())
		strong := runner{Dir: dir, Env: []string{"AEGIS_VAULT=" + filepath.Join(dir, "other"), "AEGIS_PASSPHRASE=" + strongPassphrase}}
		res := strong.run("init")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stderr).To(BeEmpty())
	})

	It("refuses a weak new passphrase on passwd and passwd --rotate, and changes nothing", func() {
		strong := user.with("AEGIS_PASSPHRASE=" + strongPassphrase)
		strong.ok("init")
		writeFile(dir, "data.json", sample)
		strong.ok("store", "data.json")
		for _, rotate := range [][]string{{"passwd"}, {"passwd", "--rotate"}} {
			res := strong.with("AEGIS_NEW_PASSPHRASE=zxcvbnm,./").fails(2, "aegis: the new passphrase is too weak", rotate...)
			expectOneCleanLine(res)
			Expect(res.Stderr).To(ContainSubstring("keyboard pattern"))
			Expect(strong.ok("load")).To(MatchJSON(sample))
			user.with("AEGIS_PASSPHRASE=zxcvbnm,./").fails(3, "wrong passphrase", "ls")
		}
		strong.with("AEGIS_NEW_PASSPHRASE=zxcvbnm,./").ok("passwd", "--allow-weak-passphrase")
		Expect(user.with("AEGIS_PASSPHRASE=zxcvbnm,./").ok("load")).To(MatchJSON(sample))
	})

	It("warns when a passphrase file can be read by others, naming it and chmod 600", func() {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
			pass := writeFile(dir, "pass.txt", strongPassphrase+"\n")
			Expect(os.Chmod(pass, mode)).To(Succeed())
			res := user.with("AEGIS_PASSPHRASE_FILE=" + pass).run("ls")
			Expect(res.Stderr).To(ContainSubstring("aegis: warning: the passphrase file " + pass + " (--passphrase-file) can be read by other users"))
			Expect(res.Stderr).To(ContainSubstring("run chmod 600 " + pass))
		}
		pass := writeFile(dir, "pass.txt", strongPassphrase+"\n")
		Expect(os.Chmod(pass, 0o600)).To(Succeed())
		res := user.with("AEGIS_PASSPHRASE_FILE=" + pass).run("init")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stderr).To(BeEmpty())
		// The new passphrase's file of passwd too; the command still runs.
		newPass := writeFile(dir, "new.txt", "another strong passphrase of five words\n")
		Expect(os.Chmod(newPass, 0o644)).To(Succeed())
		res = user.with("AEGIS_PASSPHRASE_FILE="+pass).run("passwd", "--new-passphrase-file", newPass)
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stderr).To(ContainSubstring("aegis: warning: the passphrase file " + newPass + " (--new-passphrase-file) can be read by other users"))
	})

	It("refuses a passphrase file it cannot read with exit code 2, naming it, and creates nothing", func() {
		missing := filepath.Join(dir, "no-such-pass.txt")
		expectOneCleanLine(user.fails(2, "aegis: cannot read the passphrase file "+missing+" (--passphrase-file): no such file or directory",
			"--passphrase-file", missing, "init"))
		expectOneCleanLine(user.with("AEGIS_PASSPHRASE_FILE="+dir).fails(2, "aegis: cannot read the passphrase file "+dir+" (--passphrase-file): is a directory", "init"))
		Expect(vault).NotTo(BeADirectory())
	})
})
