package main_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/bintest"
)

var _ = Describe("the aegis CLI against the aegisd binary over HTTPS", func() {
	It("stores and reads a vault with --remote https://… when SSL_CERT_FILE names the certificate, and refuses the connection without it", func() {
		dir := GinkgoT().TempDir()
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		writeCert(certFile, keyFile, "aegisd")
		secretFile := filepath.Join(dir, "secret")
		Expect(os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600)).To(Succeed())
		passFile := filepath.Join(dir, "pass")
		Expect(os.WriteFile(passFile, []byte("violet harbour quantum lantern 8841 drift\n"), 0o600)).To(Succeed())
		p := start(dir, "--listen", "127.0.0.1:0", "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--attest-secret-file", secretFile)

		home := GinkgoT().TempDir()
		aegis := func(stdin []byte, extra []string, args ...string) (string, string, int) {
			GinkgoHelper()
			env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
				"AEGIS_REMOTE=https://" + p.Addr, "AEGIS_ATTEST_SECRET_FILE=" + secretFile,
				"AEGIS_VAULT_NAME=tls-vault", "AEGIS_PASSPHRASE_FILE=" + passFile}, extra...)
			res, err := bintest.Cmd{Bin: cliBinary, Args: args, Env: env, Dir: dir, Stdin: stdin}.Run(2 * time.Minute)
			Expect(err).NotTo(HaveOccurred())
			return res.Stdout, res.Stderr, res.Code
		}
		trust := []string{"SSL_CERT_FILE=" + certFile}

		_, stderr, code := aegis(nil, nil, "init")
		Expect(code).NotTo(BeZero(), "a client that does not trust the certificate")
		Expect(stderr).To(ContainSubstring("certificate"))

		_, stderr, code = aegis(nil, trust, "init")
		Expect(code).To(BeZero(), stderr)
		_, stderr, code = aegis([]byte("over TLS"), trust, "put", "notes")
		Expect(code).To(BeZero(), stderr)
		out, stderr, code := aegis(nil, trust, "get", "notes")
		Expect(code).To(BeZero(), stderr)
		Expect(out).To(Equal("over TLS"))
		p.stop()
	})
})
