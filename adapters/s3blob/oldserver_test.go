package s3blob_test

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/s3blob"
	"github.com/ai-pantheon/aegis/domain"
)

// miniS3 answers the few S3 requests Open and CompareAndSwap send, to reproduce
// what a real server cannot be made to do on demand: ignore conditional
// headers (an old server), or write an object and lose the response.
type miniS3 struct {
	bucket string

	mu               sync.Mutex
	objects          map[string][]byte
	ignoreConditions bool // an old server: If-None-Match and If-Match have no effect
	dropResponses    bool // write the object, then close the connection without answering
	puts             map[string]int
}

func newMiniS3(t *testing.T) (*miniS3, s3blob.Config) {
	m := &miniS3{bucket: "old-bucket", objects: map[string][]byte{}, puts: map[string]int{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	cfg := s3blob.Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: m.bucket, Prefix: "p",
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret",
	}
	return m, cfg
}

func (m *miniS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	if bucket != m.bucket {
		s3Error(w, http.StatusNotFound, "NoSuchBucket")
		return
	}
	switch {
	case r.Method == http.MethodGet && key == "": // ListObjectsV2
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
			m.bucket, r.URL.Query().Get("prefix"))
	case r.Method == http.MethodPut && key != "":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody")
			return
		}
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			if body, err = decodeAWSChunked(body); err != nil {
				s3Error(w, http.StatusBadRequest, "IncompleteBody")
				return
			}
		}
		m.puts[key]++
		cur, exists := m.objects[key]
		if !m.ignoreConditions {
			if r.Header.Get("If-None-Match") == "*" && exists {
				s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
				return
			}
			if im := r.Header.Get("If-Match"); im != "" && (!exists || im != `"`+etag(cur)+`"`) {
				s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
				return
			}
		}
		m.objects[key] = body
		if m.dropResponses {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("ETag", `"`+etag(body)+`"`)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete && key != "":
		delete(m.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented")
	}
}

// decodeAWSChunked undoes the aws-chunked encoding of a signed streaming upload
// ("<hex size>;chunk-signature=<sig>\r\n<data>\r\n" ..., ending with size 0);
// the signatures are not checked.
func decodeAWSChunked(b []byte) ([]byte, error) {
	var out []byte
	for {
		line, rest, ok := strings.Cut(string(b), "\r\n")
		if !ok {
			return nil, errors.New("aws-chunked: no chunk header")
		}
		sizeHex, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(sizeHex, 16, 32)
		if err != nil || size < 0 || int(size)+2 > len(rest) {
			return nil, errors.New("aws-chunked: bad chunk size")
		}
		if size == 0 {
			return out, nil
		}
		out = append(out, rest[:size]...)
		b = []byte(rest[size+2:])
	}
}

func etag(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

// On a server that ignores conditional writes, Open refuses to start in the
// default mode, says why and names the fallback option; the fallback mode
// starts, and the probe object is gone either way.
func TestOpenRefusesServerWithoutConditionalWrites(t *testing.T) {
	m, cfg := newMiniS3(t)
	m.ignoreConditions = true
	_, err := s3blob.Open(t.Context(), cfg)
	if !errors.Is(err, s3blob.ErrNoConditionalWrites) || !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("Open on a server without conditional writes: %v, want ErrNoConditionalWrites", err)
	}
	for _, want := range []string{"If-None-Match", "cas=single-process", "s3://old-bucket/p"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q: %v", want, err)
		}
	}
	cfg.CAS = s3blob.CASSingleProcess
	s, err := s3blob.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open with CASSingleProcess: %v", err)
	}
	s.Close()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.objects) != 0 {
		t.Fatalf("Open left objects behind: %d", len(m.objects))
	}
}

// A compare-and-swap whose response is lost may have written: it must fail
// with an error that is not ErrConflict (the Vault then reads the object back),
// and must not be retried (a retry would meet its own write and report a
// conflict).
func TestAmbiguousCompareAndSwapIsNotAConflict(t *testing.T) {
	m, cfg := newMiniS3(t)
	s, err := s3blob.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m.mu.Lock()
	m.dropResponses = true
	m.mu.Unlock()
	id, _ := domain.NewObjectID(nil)
	_, err = s.CompareAndSwap(t.Context(), id, "", []byte("header"))
	if err == nil || errors.Is(err, domain.ErrConflict) {
		t.Fatalf("CompareAndSwap with a lost response: %v, want an error that is not ErrConflict", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.puts["p/"+id.String()]; n != 1 {
		t.Fatalf("CompareAndSwap sent %d PUTs, want 1 (no retry)", n)
	}
	if string(m.objects["p/"+id.String()]) != "header" {
		t.Fatalf("the server did not get the write (the test is not testing anything): %q", m.objects["p/"+id.String()])
	}
}

// An endpoint where nothing listens fails Open at once with ErrUnreachable,
// without falling back to anything.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := s3blob.Config{Endpoint: addr, Bucket: "bucket", AccessKey: "a", SecretKey: "s"}
	_, err = s3blob.Open(t.Context(), cfg)
	if !errors.Is(err, s3blob.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open of a closed port: %v, want ErrUnreachable naming %s", err, addr)
	}
}
