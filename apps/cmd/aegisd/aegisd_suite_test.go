package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/ai-pantheon/aegis/apps/internal/bintest"
)

func TestAegisdBinary(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegisd: the built binary on 127.0.0.1")
}

var binary, cliBinary string // the built aegisd and aegis

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := bintest.Build(".", "aegisd")
	Expect(err).NotTo(HaveOccurred())
	cli, err := bintest.Build("github.com/ai-pantheon/aegis/apps/cmd/aegis", "aegis")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin + "\n" + cli)
}, func(bins []byte) {
	binary, cliBinary, _ = strings.Cut(string(bins), "\n")
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	bintest.Remove(binary)
	bintest.Remove(cliBinary)
})

// cleanEnv is an environment without AEGISD_ variables, plus extra.
func cleanEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + GinkgoT().TempDir()}, extra...)
}

// run runs aegisd to its end in dir with args.
func run(dir string, args ...string) bintest.Result {
	GinkgoHelper()
	res, err := bintest.Cmd{Bin: binary, Args: args, Env: cleanEnv(), Dir: dir}.Run(time.Minute)
	Expect(err).NotTo(HaveOccurred())
	return res
}

// entries lists what dir holds.
func entries(dir string) []string {
	GinkgoHelper()
	es, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// output is what a running process wrote so far (gbytes.Buffer is safe for
// its writes and the spec's reads).
type output struct{ *gbytes.Buffer }

func (o output) String() string { return string(o.Contents()) }

// proc is a running aegisd.
type proc struct {
	*bintest.Process
	Stderr output
	Stdout output
	Addr   string // HOST:PORT it listens on
}

var listening = regexp.MustCompile(`aegisd: listening on (\S+) \(`)

// start runs aegisd in dir with memory stores and args, and waits for its
// listening line.
func start(dir string, args ...string) *proc {
	GinkgoHelper()
	all := append([]string{"--store", "memory://", "--ledger", "memory://", "--issuer-dir", filepath.Join(dir, "issuer"), "--token-type", "voprf"}, args...)
	p := &proc{Stderr: output{gbytes.NewBuffer()}, Stdout: output{gbytes.NewBuffer()}}
	cmd := exec.Command(binary, all...)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	var err error
	p.Process, err = bintest.Start(cmd)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Kill)
	Eventually(func() string {
		m := listening.FindStringSubmatch(p.Stderr.String())
		if m == nil {
			return ""
		}
		p.Addr = m[1]
		return m[1]
	}, "30s", "20ms").ShouldNot(BeEmpty(), "aegisd did not start: %s", p.Stderr)
	return p
}

// stop sends SIGTERM and expects exit 0.
func (p *proc) stop() {
	GinkgoHelper()
	Expect(p.Cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	Eventually(p.Exited, "30s").Should(BeClosed())
	Expect(p.Err).NotTo(HaveOccurred(), "exit status 0; stderr %s", p.Stderr)
}

// port is the port of p's address, on 127.0.0.1.
func (p *proc) local() string {
	_, port, err := net.SplitHostPort(p.Addr)
	Expect(err).NotTo(HaveOccurred())
	return "127.0.0.1:" + port
}

// writeCert writes a new self-signed ECDSA certificate for 127.0.0.1 and its
// key to certFile and keyFile, and returns the certificate.
func writeCert(certFile, keyFile, name string) *x509.Certificate {
	GinkgoHelper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	cert, err := x509.ParseCertificate(der)
	Expect(err).NotTo(HaveOccurred())
	kder, err := x509.MarshalECPrivateKey(key)
	Expect(err).NotTo(HaveOccurred())
	// Written to a temporary name and renamed, as a certificate manager does.
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: kder}} {
		Expect(os.WriteFile(file+".tmp", pem.EncodeToMemory(block), 0o600)).To(Succeed())
		Expect(os.Rename(file+".tmp", file)).To(Succeed())
	}
	return cert
}

// trusting returns an HTTP client that trusts only the given certificates
// and opens a new connection for every request.
func trusting(certs ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
		Proxy:             nil,
	}}
}

// served returns the certificate a new TLS connection to addr is served.
func served(addr string) *x509.Certificate {
	GinkgoHelper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the spec inspects what is served
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	Expect(certs).NotTo(BeEmpty())
	return certs[0]
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
}
