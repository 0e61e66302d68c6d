package relay_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
	"github.com/ai-pantheon/aegis/domain"
)

// BenchmarkRelayForward is the relay's cost per request: a 1 KiB body POSTed
// through the Wire-built relay (its real http.Server on 127.0.0.1, no
// per-connection limit) to a fake gateway that echoes it as
// message/ohttp-res (server=relay), beside the same request sent straight to
// that gateway (server=direct). Both use one client goroutine, one keep-alive
// connection, a fresh request per operation, and check the status and the
// echoed body. It reports ns/op and req/s.
func BenchmarkRelayForward(b *testing.B) {
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", relay.MediaTypeResponse)
		_, _ = w.Write(body)
	}))
	defer gw.Close()
	srv, err := relaytest.Start(relay.Options{Gateway: gw.URL, Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			b.Errorf("relay shutdown: %v", err)
		}
	}()

	body := bytes.Repeat([]byte{0xA5}, domain.KiB)
	for _, target := range []struct{ name, url string }{
		{"relay", srv.URL + relay.RelayPath},
		{"direct", gw.URL + relay.GatewayPath},
	} {
		b.Run("server="+target.name, func(b *testing.B) {
			tr := &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			buf := make([]byte, 0, 2*domain.KiB)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req, err := http.NewRequest(http.MethodPost, target.url, bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", relay.MediaTypeRequest)
				res, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
				w := bytes.NewBuffer(buf)
				_, err = io.Copy(w, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || !bytes.Equal(w.Bytes(), body) {
					b.Fatalf("answer %d, %d bytes, %v; want 200 and the body echoed", res.StatusCode, w.Len(), err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
