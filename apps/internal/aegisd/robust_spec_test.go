package aegisd_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
)

var _ = Describe("aegisd against hostile clients", func() {
	var srv *running

	BeforeEach(func() {
		var err error
		srv, err = start(nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
	})

	dial := func() net.Conn {
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c
	}

	It("drops a client that sends its headers too slowly (slowloris) and keeps serving others", func() {
		slow := dial()
		_, err := slow.Write([]byte("GET /healthz HTTP/1.1\r\nHost: aegisd\r\nX-Slow: "))
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		// The server must close the connection once ReadHeaderTimeout has passed.
		Expect(slow.SetReadDeadline(time.Now().Add(aegisd.ReadHeaderTimeout + 5*time.Second))).To(Succeed())
		buf := make([]byte, 512)
		n, err := slow.Read(buf)
		elapsed := time.Since(start)
		Expect(err != nil || strings.HasPrefix(string(buf[:n]), "HTTP/1.1 408")).To(BeTrue(), "got %q, %v", buf[:n], err)
		Expect(elapsed).To(BeNumerically("<", aegisd.ReadHeaderTimeout+4*time.Second))
		if ne, ok := err.(net.Error); ok {
			Expect(ne.Timeout()).To(BeFalse(), "the server kept the slow connection open")
		}
		// Meanwhile and afterwards, other clients are served.
		resp, err := http.Get(srv.URL + "/healthz")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(200))
		resp.Body.Close()
	})

	It("refuses headers larger than the limit (431) and stays up", func() {
		c := dial()
		req := "GET /healthz HTTP/1.1\r\nHost: aegisd\r\nX-Huge: " + strings.Repeat("a", 4*aegisd.MaxHeaderBytes) + "\r\n\r\n"
		_, err := c.Write([]byte(req))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusRequestHeaderFieldsTooLarge))
		resp.Body.Close()
		ok, err := http.Get(srv.URL + "/healthz")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok.StatusCode).To(Equal(200))
		ok.Body.Close()
	})
})
