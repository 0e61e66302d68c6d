package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
)

// The CLI through an Oblivious HTTP relay: aegisd (the suite's, a gateway by
// default) behind a relay on 127.0.0.1, and --remote naming a host that
// cannot be resolved, so that any connection to it would fail.

const unresolvableRemote = "http://aegisd.invalid:8080"

// leg is one request that crossed a recorded leg, and its answer.
type leg struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int
	RespHeader   http.Header
	RespBody     []byte
}

// legRecorder is a reverse proxy to target that records every exchange.
type legRecorder struct {
	URL  string
	mu   sync.Mutex
	legs []leg
}

func recordLeg(target string) *legRecorder {
	GinkgoHelper()
	u, err := url.Parse(target)
	Expect(err).NotTo(HaveOccurred())
	rec := &legRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = nil
	proxy.ModifyResponse = func(res *http.Response) error {
		b, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		req := res.Request
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i := len(rec.legs) - 1; i >= 0; i-- {
			if rec.legs[i].Status == 0 && rec.legs[i].Method == req.Method && rec.legs[i].Path == req.URL.Path {
				rec.legs[i].Status, rec.legs[i].RespHeader, rec.legs[i].RespBody = res.StatusCode, res.Header.Clone(), b
				break
			}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		rec.mu.Lock()
		rec.legs = append(rec.legs, leg{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	DeferCleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

func (r *legRecorder) take() []leg {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.legs
	r.legs = nil
	return out
}

// startRelay runs the real aegis-relay (relaytest: the Wire-assembled relay
// with its http.Server) in front of the gateway of the aegisd at gateway and
// returns its URL.
func startRelay(gateway string) string {
	GinkgoHelper()
	srv, err := relaytest.Start(relay.Options{Gateway: gateway, Log: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(srv.Stop()).To(Succeed()) })
	return srv.URL
}

var _ = Describe("aegis --relay: every request through an Oblivious HTTP relay", func() {
	var (
		dir  string
		name string
	)
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "data.json", sample)
		name = randomName("relay")
	})
	through := func(relay string) runner {
		return remoteUser(dir, unresolvableRemote, name, "relay passphrase").with("AEGIS_RELAY=" + relay)
	}

	It("runs every vault command with an unresolvable --remote host, trusting the gateway key on first use", func() {
		user := through(startRelay(serverURL))
		res := user.run("init")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stderr).To(ContainSubstring("trusting the gateway key of " + unresolvableRemote))
		Expect(res.Stderr).To(ContainSubstring("first use"))
		Expect(user.ok("store", "data.json")).To(ContainSubstring("stored 3 categories"))
		Expect(user.input([]byte("through the relay")).ok("put", "notes")).To(BeEmpty())
		Expect(user.ok("get", "notes")).To(Equal("through the relay"))
		Expect(user.ok("load", "journal", "bookmarks", "settings")).To(MatchJSON(sample))
		Expect(user.ok("verify", "data.json")).To(ContainSubstring("PASS\tjournal"))
		Expect(user.ok("tokens", "fetch", "--count", "8", "--batch", "8")).To(ContainSubstring("8"))
		// Later runs find the key recorded: no notice.
		res = user.run("ls")
		Expect(res.Code).To(Equal(0), res.Stderr)
		Expect(res.Stdout).To(Equal("bookmarks\njournal\nnotes\nsettings\n"))
		Expect(res.Stderr).NotTo(ContainSubstring("trusting"))
		Expect(filepath.Join(dir, ".config", "aegis", "ohttp-keys.json")).To(BeAnExistingFile())
		// The rest of the vault commands, through the relay too.
		Expect(user.ok("stats")).To(ContainSubstring("categories:       4"))
		Expect(user.ok("rotate")).To(BeEmpty())
		Expect(user.ok("rm", "notes")).To(BeEmpty())
		user.fails(5, `"notes"`, "get", "notes")
		writeFile(dir, "new-pass", "new relay passphrase\n")
		Expect(user.ok("passwd", "--new-passphrase-file", filepath.Join(dir, "new-pass"))).To(BeEmpty())
		Expect(user.ok("--passphrase-file", filepath.Join(dir, "new-pass"), "load")).To(MatchJSON(sample))
	})

	It("refuses a relay that offers another gateway's key for the same --remote", func() {
		user := through(startRelay(serverURL))
		user.ok("init")
		other := startOwnServer()
		DeferCleanup(other.stop)
		user.with("AEGIS_RELAY="+startRelay(other.URL)).fails(1, "substituting its own key", "ls")
		// Pinned to the suite's gateway key, the other relay is refused too,
		// and the right one accepted.
		pin := gatewayKeySHA256(serverURL)
		user.with("AEGIS_RELAY="+startRelay(other.URL), "AEGIS_RELAY_KEY_SHA256="+pin).fails(1, "pinned", "ls")
		Expect(user.with("AEGIS_RELAY_KEY_SHA256=" + pin).ok("ls")).To(BeEmpty())
	})

	It("refuses a malformed relay URL, or a relay without --remote, as usage errors (exit 2)", func() {
		user := through("ftp://relay.example")
		user.fails(2, "--relay", "ls")
		user.with("AEGIS_RELAY=http://user@relay.example").fails(2, "--relay", "ls")
		runner{Dir: dir}.fails(2, "--relay needs --remote", "--relay", "http://127.0.0.1:1", "ls")
		through(startRelay(serverURL)).fails(2, "--relay-key-sha256", "--relay-key-sha256", "abc", "ls")
	})

	It("carries neither an object path, a token, the attestation secret nor plaintext in the clear on either leg", func() {
		toServer := recordLeg(serverURL)               // relay -> aegisd
		toRelay := recordLeg(startRelay(toServer.URL)) // client -> relay
		user := through(toRelay.URL)
		user.ok("init")
		user.ok("store", "data.json")
		const secretNote = "a secret note, only for the vault"
		user.input([]byte(secretNote)).ok("put", "notes")
		Expect(user.ok("get", "notes")).To(Equal(secretNote))
		Expect(user.ok("load", "journal")).To(ContainSubstring("dear diary"))

		client, relay := toRelay.take(), toServer.take()
		Expect(client).NotTo(BeEmpty())
		Expect(relay).NotTo(BeEmpty())
		ids := serverObjectIDs(serverData)
		Expect(ids).NotTo(BeEmpty())
		forbidden := []string{
			server.ObjectsPath, "PrivateToken", attestSecret, "Bearer",
			secretNote, "dear diary", "https://example.org", "theme", "aegisd.invalid",
		}
		for _, id := range ids {
			forbidden = append(forbidden, id)
		}
		check := func(what string, legs []leg, paths ...string) {
			GinkgoHelper()
			for _, l := range legs {
				Expect(paths).To(ContainElement(l.Path), "%s: %s %s", what, l.Method, l.Path)
				var wire bytes.Buffer
				wire.WriteString(l.Method + " " + l.Path + "\n")
				_ = l.Header.Write(&wire)
				wire.Write(l.Body)
				_ = l.RespHeader.Write(&wire)
				wire.Write(l.RespBody)
				for _, s := range forbidden {
					Expect(wire.String()).NotTo(ContainSubstring(s), "%s: %s %s carries %q in the clear", what, l.Method, l.Path, s)
				}
				if l.Method == http.MethodPost {
					Expect(l.Header.Get("Content-Type")).To(Equal(ohttp.RequestMediaType))
					Expect(l.RespHeader.Get("Content-Type")).To(Equal(ohttp.ResponseMediaType))
				}
			}
		}
		check("client -> relay", client, "/", "/ohttp-keys")
		check("relay -> aegisd", relay, server.GatewayPath)
	})
})

// gatewayKeySHA256 is the SHA-256 (hex) of the first key configuration the
// aegisd at base publishes.
func gatewayKeySHA256(base string) string {
	GinkgoHelper()
	res, err := http.Get(base + server.GatewayPath)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	cfgs, err := ohttp.ParseKeyConfigs(b)
	Expect(err).NotTo(HaveOccurred())
	enc, err := cfgs[0].MarshalBinary()
	Expect(err).NotTo(HaveOccurred())
	h := sha256.Sum256(enc)
	return hex.EncodeToString(h[:])
}
