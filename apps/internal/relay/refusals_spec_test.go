package relay_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

var _ = Describe("bad requests", func() {
	var (
		gw *gateway
		r  *running
		c  *http.Client
	)
	BeforeEach(func() {
		gw = newGateway()
		r = startRelay(gw, func(o *relay.Options) { o.MaxBody = 4096 })
		c = newClient()
	})
	AfterEach(func() {
		Expect(gw.requests()).To(BeEmpty(), "nothing is forwarded for a refused request")
	})

	DescribeTable("a POST / of another media type is 415",
		func(ct string) {
			expectError(post(c, r.URL, ct, []byte("x")), http.StatusUnsupportedMediaType, "unsupported_media_type")
		},
		Entry("no Content-Type", ""),
		Entry("application/octet-stream", "application/octet-stream"),
		Entry("the response media type", relay.MediaTypeResponse),
		Entry("a longer type", "message/ohttp-req-chunked"),
		Entry("a malformed value", "message/ohttp-req;;=;"),
		Entry("Binary HTTP itself", "message/bhttp"),
	)

	It("refuses a body over --max-body with 413, with or without a Content-Length", func() {
		expectError(post(c, r.URL, relay.MediaTypeRequest, randomBytes(4097)), http.StatusRequestEntityTooLarge, "body_too_large")
		// Chunked: no Content-Length to refuse it by, the read stops past the bound.
		req, err := http.NewRequest(http.MethodPost, r.URL+"/", io.MultiReader(bytes.NewReader(randomBytes(3000)), bytes.NewReader(randomBytes(3000))))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", relay.MediaTypeRequest)
		req.ContentLength = -1
		expectError(do(c, req), http.StatusRequestEntityTooLarge, "body_too_large")
	})

	It("refuses an empty body with 400", func() {
		expectError(post(c, r.URL, relay.MediaTypeRequest, nil), http.StatusBadRequest, "bad_request")
	})

	DescribeTable("other paths are 404 and other methods 405",
		func(method, path string, status int, code string) {
			res := get(c, method, r.URL+path)
			Expect(res.Status).To(Equal(status))
			if method != http.MethodHead {
				expectError(res, status, code)
			}
		},
		Entry("GET /", http.MethodGet, "/", http.StatusMethodNotAllowed, "method_not_allowed"),
		Entry("PUT /", http.MethodPut, "/", http.StatusMethodNotAllowed, "method_not_allowed"),
		Entry("DELETE /", http.MethodDelete, "/", http.StatusMethodNotAllowed, "method_not_allowed"),
		Entry("POST /ohttp-keys", http.MethodPost, "/ohttp-keys", http.StatusMethodNotAllowed, "method_not_allowed"),
		Entry("POST /healthz", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed"),
		Entry("GET /v1/objects/x (aegisd's API is not relayed in the clear)", http.MethodGet, "/v1/objects/x", http.StatusNotFound, "route_not_found"),
		Entry("POST /.well-known/ohttp-gateway", http.MethodPost, "/.well-known/ohttp-gateway", http.StatusNotFound, "route_not_found"),
		Entry("HEAD of an unknown path", http.MethodHead, "/nothing-here", http.StatusNotFound, ""),
	)

	It("answers GET and HEAD /healthz with 200", func() {
		res := get(c, http.MethodGet, r.URL+"/healthz")
		Expect(res.Status).To(Equal(http.StatusOK))
		Expect(strings.TrimSpace(string(res.Body))).To(Equal(`{"status":"ok"}`))
		Expect(get(c, http.MethodHead, r.URL+"/healthz").Status).To(Equal(http.StatusOK))
	})
})
