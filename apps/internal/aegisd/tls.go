package aegisd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
)

// Certificate is the TLS certificate and key aegisd serves with
// (--tls-cert-file, --tls-key-file), held so that it can be replaced while
// serving: new connections get the pair loaded last, Reload (on SIGHUP)
// replaces it only with a pair that loads and matches.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads the PEM certificate chain in certFile and the PEM
// private key in keyFile. Both are required; the error names the file that
// cannot be read, or says that the key is not the certificate's.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("aegisd: --tls-cert-file and --tls-key-file go together: give both or neither")
	}
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	pair, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cur.Store(pair)
	return c, nil
}

func (c *Certificate) load() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return nil, fmt.Errorf("aegisd: --tls-cert-file: %w", err)
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("aegisd: --tls-key-file: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("aegisd: --tls-cert-file %s and --tls-key-file %s are not a certificate and its private key: %w", c.certFile, c.keyFile, err)
	}
	return &pair, nil
}

// Reload reads both files again and, if they load and match, serves the new
// pair to new connections. On error the previous pair stays.
func (c *Certificate) Reload() error {
	pair, err := c.load()
	if err != nil {
		return err
	}
	c.cur.Store(pair) // new connections get it
	return nil
}

// GetCertificate is the tls.Config.GetCertificate of the server: the pair
// loaded last.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Files returns the certificate and key file names.
func (c *Certificate) Files() (certFile, keyFile string) { return c.certFile, c.keyFile }

// tlsConfig is the server's TLS configuration with c's pair (TLS 1.2 at least).
func tlsConfig(c *Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// beyondLoopback reports whether a listening address accepts connections
// from other hosts: any address but a loopback one (0.0.0.0 and :: do).
func beyondLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return !ok || !ta.IP.IsLoopback()
}

// ReloadTLS reloads the TLS certificate and key (SIGHUP) and logs the
// outcome; a failed reload keeps the previous pair. Without TLS it logs that
// there is nothing to reload.
func (a *App) ReloadTLS() {
	if a.tls == nil {
		a.Log.Info("aegisd: SIGHUP ignored: no TLS certificate configured")
		return
	}
	if err := a.tls.Reload(); err != nil {
		a.Log.Warn("aegisd: TLS certificate reload failed; serving the previous certificate", "error", err.Error())
		return
	}
	cert, _ := a.tls.Files()
	a.Log.Info("aegisd: TLS certificate reloaded from " + cert)
}
