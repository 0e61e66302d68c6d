package httpblob

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// wire is a listener that records every byte the server reads, so that tests
// see requests as they were on the wire.
type wire struct {
	net.Listener
	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (w *wire) Accept() (net.Conn, error) {
	c, err := w.Listener.Accept()
	if err != nil {
		return nil, err
	}
	b := &bytes.Buffer{}
	w.mu.Lock()
	w.conns = append(w.conns, b)
	w.mu.Unlock()
	return &tapConn{Conn: c, w: w, buf: b}, nil
}

type tapConn struct {
	net.Conn
	w   *wire
	buf *bytes.Buffer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.mu.Lock()
	c.buf.Write(p[:n])
	c.w.mu.Unlock()
	return n, err
}

// wireRequest is one request as it was on the wire.
type wireRequest struct {
	method string
	header textproto.MIMEHeader // every header line, Host included
}

func (r wireRequest) names() []string { return slices.Sorted(maps.Keys(r.header)) }

// take parses and forgets the requests read so far, connection by connection.
func (w *wire) take(t *testing.T) []wireRequest {
	t.Helper()
	w.mu.Lock()
	var raw [][]byte
	for _, b := range w.conns {
		raw = append(raw, bytes.Clone(b.Bytes()))
		b.Reset()
	}
	w.mu.Unlock()
	var reqs []wireRequest
	for _, data := range raw {
		br := bufio.NewReader(bytes.NewReader(data))
		tp := textproto.NewReader(br)
		for {
			line, err := tp.ReadLine()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("request line: %v", err)
			}
			h, err := tp.ReadMIMEHeader()
			if err != nil {
				t.Fatalf("header of %q: %v", line, err)
			}
			if cl := h.Get("Content-Length"); cl != "" {
				n, _ := strconv.ParseInt(cl, 10, 64)
				if _, err := io.CopyN(io.Discard, br, n); err != nil {
					t.Fatalf("body of %q: %v", line, err)
				}
			}
			method, _, _ := strings.Cut(line, " ")
			reqs = append(reqs, wireRequest{method: method, header: h})
		}
	}
	return reqs
}

// newWireServer starts an aegisd stand-in that records requests on the wire and
// answers every one with success. It reads each body before answering, so all
// of a request is recorded when its answer arrives.
func newWireServer(t *testing.T) (*wire, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.Method {
		case http.MethodGet:
			object(`"v1"`, "x")(w)
		default:
			created(`"v2"`)(w)
		}
	}))
	rec := &wire{Listener: ts.Listener}
	ts.Listener = rec
	ts.Start()
	t.Cleanup(ts.Close)
	return rec, ts.URL
}

// objectOps are the object requests of a guarded view, with the header names
// each sends on the wire when stripped to the protocol's headers.
func objectOps(id domain.ObjectID) []struct {
	name string
	call func(s domain.BlobStore) error
	want []string
} {
	t := func(names ...string) []string {
		return slices.Sorted(slices.Values(append(names, "Host", "User-Agent", "Authorization")))
	}
	return []struct {
		name string
		call func(s domain.BlobStore) error
		want []string
	}{
		{"Put", func(s domain.BlobStore) error { return s.Put(ctxBG, id, []byte("x")) },
			t("Content-Type", "Content-Length", "Aegis-Write-Enabler")},
		{"CompareAndSwap create", func(s domain.BlobStore) error {
			_, err := s.CompareAndSwap(ctxBG, id, "", []byte("x"))
			return err
		}, t("Content-Type", "Content-Length", "Aegis-Write-Enabler", "If-None-Match")},
		{"CompareAndSwap swap", func(s domain.BlobStore) error {
			_, err := s.CompareAndSwap(ctxBG, id, "v1", []byte("x"))
			return err
		}, t("Content-Type", "Content-Length", "Aegis-Write-Enabler", "If-Match")},
		{"Get", func(s domain.BlobStore) error { _, err := s.Get(ctxBG, id); return err }, t()},
		{"GetVersioned", func(s domain.BlobStore) error { _, _, err := s.GetVersioned(ctxBG, id); return err }, t()},
		{"Delete", func(s domain.BlobStore) error { return s.Delete(ctxBG, id) }, t("Aegis-Write-Enabler")},
	}
}

var ctxBG = context.Background()

// checkHeaders sends every object request through s and checks the header
// names of each on the wire: the op's protocol headers plus extra.
func checkHeaders(t *testing.T, what string, w *wire, s domain.BlobStore, extra ...string) {
	t.Helper()
	id, _ := domain.NewObjectID(nil)
	for _, op := range objectOps(id) {
		w.take(t)
		if err := op.call(s); err != nil {
			t.Fatalf("%s: %s: %v", what, op.name, err)
		}
		reqs := w.take(t)
		if len(reqs) != 1 {
			t.Fatalf("%s: %s: %d requests on the wire, want 1", what, op.name, len(reqs))
		}
		want := slices.Sorted(slices.Values(append(slices.Clone(op.want), extra...)))
		if got := reqs[0].names(); !slices.Equal(got, want) {
			t.Errorf("%s: %s sent headers %v, want %v", what, op.name, got, want)
		}
		if ua := reqs[0].header.Values("User-Agent"); !slices.Equal(ua, []string{UserAgent}) {
			t.Errorf("%s: %s sent User-Agent %q", what, op.name, ua)
		}
	}
}

// TestStrippedSendsOnlyProtocolHeaders: a caller's client with a cookie jar
// (holding a cookie for the server) and a plain http.Transport (which asks for
// gzip) adds Cookie and Accept-Encoding to the store's requests; a stripped
// view removes both, keeps exactly the protocol's headers, and keeps Cookie when
// the allow-list names it.
func TestStrippedSendsOnlyProtocolHeaders(t *testing.T) {
	w, base := newWireServer(t)
	for _, h := range []string{"Host", "User-Agent", "Authorization", "Content-Type", "Content-Length", "Aegis-Write-Enabler", "If-Match", "If-None-Match"} {
		if h != "Host" && !slices.Contains(ProtocolHeaders, h) {
			t.Fatalf("ProtocolHeaders %v lacks %s", ProtocolHeaders, h)
		}
	}
	if len(ProtocolHeaders) != 7 {
		t.Fatalf("ProtocolHeaders %v: want the 7 headers the ops send", ProtocolHeaders)
	}

	// The store Open returns, with its default client: the protocol's headers
	// only, no Accept-Encoding.
	st, err := Open(base, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, "default client", w, st.Guarded(testEnabler))

	// A caller's client with a cookie jar and a plain Transport.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "tracking-id"}})
	transport := &http.Transport{}
	client := &http.Client{Jar: jar, Transport: transport}
	st, err = Open(base, &Options{Tokens: &countingTokens{}, Client: client, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Unstripped, the jar and the Transport add their headers: the test sees them.
	checkHeaders(t, "caller's client, unstripped", w, st.Guarded(testEnabler), "Cookie", "Accept-Encoding")

	stripped := st.Stripped(nil)
	checkHeaders(t, "Stripped(nil) then Guarded", w, stripped.(domain.WriteGuard).Guarded(testEnabler))
	checkHeaders(t, "Guarded then Stripped(nil)", w, st.Guarded(testEnabler).(domain.MetadataStripper).Stripped(nil))
	// The allow-list keeps what it names, in any case, and only that.
	allowed := st.Guarded(testEnabler).(domain.MetadataStripper).Stripped([]string{"cookie", " x-not-sent "})
	checkHeaders(t, `Stripped("cookie")`, w, allowed, "Cookie")
	id, _ := domain.NewObjectID(nil)
	if _, err := allowed.Get(ctxBG, id); err != nil {
		t.Fatal(err)
	}
	if got := w.take(t)[0].header.Values("Cookie"); !slices.Equal(got, []string{"session=tracking-id"}) {
		t.Fatalf("allowed Cookie on the wire: %q", got)
	}
	// Stripped on a stripped view replaces the allow-list.
	checkHeaders(t, `Stripped("cookie") then Stripped(nil)`, w, allowed.(domain.MetadataStripper).Stripped(nil))

	// The caller's client is unchanged, and the unstripped store still sends
	// what it adds.
	if client.Transport != transport || client.Jar != jar {
		t.Fatal("Stripped changed the caller's client")
	}
	checkHeaders(t, "caller's client after Stripped", w, st.Guarded(testEnabler), "Cookie", "Accept-Encoding")

	// Views are networked and strippable.
	for _, v := range []domain.BlobStore{st, stripped, allowed} {
		if n, ok := v.(domain.Networked); !ok || !n.Networked() {
			t.Fatal("a view is not Networked")
		}
	}
}

// TestStrippedWithoutTransport: a caller's client with a nil Transport is
// stripped over a clone of http.DefaultTransport that asks for no compression.
func TestStrippedWithoutTransport(t *testing.T) {
	w, base := newWireServer(t)
	st, err := Open(base, &Options{Tokens: &countingTokens{}, Client: &http.Client{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, "nil Transport, unstripped", w, st.Guarded(testEnabler), "Accept-Encoding")
	checkHeaders(t, "nil Transport, Stripped(nil)", w, st.Stripped(nil).(domain.WriteGuard).Guarded(testEnabler))
	if http.DefaultTransport.(*http.Transport).DisableCompression {
		t.Fatal("Stripped changed http.DefaultTransport")
	}
}

// Environment independence: the same requests from processes with different
// locales, time zones and host names carry the same headers.

const envHelperURL = "HTTPBLOB_TEST_ENV_HELPER_URL"

// TestEnvHelper is the subprocess of TestHeadersIndependentOfEnvironment: a
// guarded store (default client) and its Stripped(nil) view each do a Put and
// a Get against the server at $HTTPBLOB_TEST_ENV_HELPER_URL.
func TestEnvHelper(t *testing.T) {
	base := os.Getenv(envHelperURL)
	if base == "" {
		t.Skip("subprocess of TestHeadersIndependentOfEnvironment")
	}
	st, err := Open(base, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := domain.NewObjectID(nil)
	for _, s := range []domain.BlobStore{st.Guarded(testEnabler), st.Stripped(nil).(domain.WriteGuard).Guarded(testEnabler)} {
		if err := s.Put(t.Context(), id, []byte("same bytes")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("env-helper HOSTNAME=%s TZ=%s LANG=%s LC_ALL=%s\n", os.Getenv("HOSTNAME"), os.Getenv("TZ"), os.Getenv("LANG"), os.Getenv("LC_ALL"))
}

// perRequest are the headers whose values differ from request to request.
var perRequest = map[string]bool{"Authorization": true, "Content-Length": true, "If-Match": true, "If-None-Match": true, "Aegis-Write-Enabler": true}

func TestHeadersIndependentOfEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary twice")
	}
	w, base := newWireServer(t)
	envs := [][]string{
		{"LANG=C", "LC_ALL=C", "TZ=UTC", "HOSTNAME=alpha"},
		{"LANG=de_DE.UTF-8", "LC_ALL=ja_JP.UTF-8", "TZ=Pacific/Chatham", "HOSTNAME=bravo.example.org"},
	}
	var runs [][]string
	for _, env := range envs {
		w.take(t)
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestEnvHelper$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), envHelperURL+"="+base), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper with %v: %v\n%s", env, err, out)
		}
		if !strings.Contains(string(out), "env-helper HOSTNAME="+strings.TrimPrefix(env[3], "HOSTNAME=")+" TZ="+strings.TrimPrefix(env[2], "TZ=")) {
			t.Fatalf("helper with %v did not run with it:\n%s", env, out)
		}
		reqs := w.take(t)
		if len(reqs) != 4 {
			t.Fatalf("helper with %v: %d requests on the wire, want 4", env, len(reqs))
		}
		// One line per request: the method, every header name, and the value
		// of every header that is not per request.
		var lines []string
		for _, r := range reqs {
			line := r.method
			for _, k := range r.names() {
				if perRequest[k] {
					line += " " + k
				} else {
					line += fmt.Sprintf(" %s=%q", k, r.header.Values(k))
				}
			}
			if r.header.Get("Accept-Encoding") != "" {
				t.Errorf("helper with %v sent Accept-Encoding: %s", env, line)
			}
			lines = append(lines, line)
		}
		slices.Sort(lines)
		runs = append(runs, lines)
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Fatalf("headers depend on the environment:\n%v:\n  %s\n%v:\n  %s", envs[0], strings.Join(runs[0], "\n  "), envs[1], strings.Join(runs[1], "\n  "))
	}
	t.Logf("both environments:\n  %s", strings.Join(runs[0], "\n  "))
}
