package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	b := newBucket(2, 3, t0) // 2 tokens/s, 3 at most
	for i := range 3 {
		if ok, _ := b.take(t0); !ok {
			t.Fatalf("take %d of a full bucket of 3 refused", i+1)
		}
	}
	ok, wait := b.take(t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("take of an empty bucket = %v, %v; want refused, 500ms until the next token", ok, wait)
	}
	if ok, _ := b.take(t0.Add(499 * time.Millisecond)); ok {
		t.Fatal("a token was there before 1/rate seconds passed")
	}
	if ok, _ := b.take(t0.Add(500 * time.Millisecond)); !ok {
		t.Fatal("no token after 1/rate seconds")
	}
	// A long idle time fills the bucket to its burst, no more.
	later := t0.Add(time.Hour)
	for i := range 3 {
		if ok, _ := b.take(later); !ok {
			t.Fatalf("take %d after an hour refused", i+1)
		}
	}
	if ok, _ := b.take(later); ok {
		t.Fatal("the bucket held more than its burst")
	}
	// A clock that steps back takes nothing away and gives nothing.
	if ok, _ := b.take(later.Add(-time.Minute)); ok {
		t.Fatal("a clock step back refilled the bucket")
	}
}

func TestKeyCacheExpires(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	var fetches atomic.Int32
	fetch := func(context.Context) ([]byte, error) {
		n := fetches.Add(1)
		return []byte{byte(n)}, nil
	}
	k := &keyCache{ttl: time.Minute}
	for range 3 {
		b, exp, err := k.get(context.Background(), fetch, clock)
		if err != nil || b[0] != 1 || !exp.Equal(now.Add(time.Minute)) {
			t.Fatalf("get = %v, %v, %v; want the first fetch, valid for a minute", b, exp, err)
		}
	}
	now = now.Add(time.Minute - time.Nanosecond)
	if b, _, _ := k.get(context.Background(), fetch, clock); b[0] != 1 {
		t.Fatalf("fetched again before the cache time ran out")
	}
	now = now.Add(time.Nanosecond)
	if b, _, _ := k.get(context.Background(), fetch, clock); b[0] != 2 {
		t.Fatalf("served the old configurations after the cache time")
	}
	if got := fetches.Load(); got != 2 {
		t.Fatalf("%d fetches, want 2", got)
	}
}

func TestKeyCacheFetchOutlivesTheRequestThatStartedIt(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int32
	fetch := func(ctx context.Context) ([]byte, error) {
		fetches.Add(1)
		<-release
		if ctx.Err() != nil {
			return nil, errors.New("the fetch was cancelled with the request that started it")
		}
		return []byte("keys"), nil
	}
	k := &keyCache{ttl: time.Minute}
	first, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, _, err := k.get(first, fetch, time.Now); done <- err }()
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	var re *server.APIError
	if err := <-done; !errors.As(err, &re) || re.Code() != server.CodeRequestCancelled {
		t.Fatalf("the cancelled request got %v, want request_cancelled", err)
	}
	close(release)
	for {
		k.mu.Lock()
		pending := k.pending != nil
		k.mu.Unlock()
		if !pending {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b, _, err := k.get(context.Background(), fetch, time.Now)
	if err != nil || string(b) != "keys" || fetches.Load() != 1 {
		t.Fatalf("after the fetch: %q, %v, %d fetches; want its result from the cache, 1 fetch", b, err, fetches.Load())
	}
}

func TestKeyCacheKeepsNoFailure(t *testing.T) {
	boom := server.NewError(http.StatusBadGateway, CodeGatewayUnreachable, "down")
	var fetches atomic.Int32
	fetch := func(context.Context) ([]byte, error) {
		if fetches.Add(1) == 1 {
			return nil, boom
		}
		return []byte("keys"), nil
	}
	k := &keyCache{ttl: time.Minute}
	if _, _, err := k.get(context.Background(), fetch, time.Now); !errors.Is(err, boom) {
		t.Fatalf("first get = %v, want the fetch's error", err)
	}
	if b, _, err := k.get(context.Background(), fetch, time.Now); err != nil || string(b) != "keys" {
		t.Fatalf("second get = %q, %v; want a new fetch's keys", b, err)
	}
}

func TestDefaultMaxBodyCoversAegisdsLargestRequest(t *testing.T) {
	if maxHeaderSection != aegisd.MaxHeaderBytes {
		t.Fatalf("maxHeaderSection %d, aegisd.MaxHeaderBytes %d: they must agree", maxHeaderSection, aegisd.MaxHeaderBytes)
	}
	largest := domain.DefaultBuckets().Max() + server.BodySlack
	if want := largest + aegisd.MaxHeaderBytes + 7 + 133 + 16; DefaultMaxBody < want {
		t.Fatalf("DefaultMaxBody %d is under aegisd's largest body %d with its header section and the OHTTP overhead (%d)", DefaultMaxBody, largest, want)
	}
	if DefaultMaxBody != 1_070_080 {
		t.Fatalf("DefaultMaxBody = %d; docs/deploy.md and the flag's help say 1,070,080", DefaultMaxBody)
	}
}

func TestProvideSettings(t *testing.T) {
	ok := Options{Gateway: "http://127.0.0.1:8080"}
	s, err := ProvideSettings(ok)
	if err != nil {
		t.Fatal(err)
	}
	if s.GatewayResource != "http://127.0.0.1:8080"+GatewayPath || s.Listen != DefaultListen || s.MaxBody != DefaultMaxBody ||
		s.MaxInFlight != DefaultMaxInFlight || s.Burst != DefaultBurst || s.Rate != 0 || s.KeysCache != 0 ||
		s.GatewayTimeout != DefaultGatewayTimeout || s.RequestTimeout != DefaultRequestTimeout {
		t.Fatalf("defaults: %+v", s)
	}
	if s, _ := ProvideSettings(Options{Gateway: "HTTPS://gw.example:8443/aegis/"}); s.GatewayResource != "https://gw.example:8443/aegis"+GatewayPath {
		t.Fatalf("GatewayResource of a prefix URL = %q", s.GatewayResource)
	}
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no gateway", func(o *Options) { o.Gateway = "" }, "--gateway is required"},
		{"gateway scheme", func(o *Options) { o.Gateway = "ftp://gw" }, `--gateway "ftp://gw": want an http:// or https:// URL`},
		{"gateway without a host", func(o *Options) { o.Gateway = "http:///x" }, "has no host"},
		{"gateway with credentials", func(o *Options) { o.Gateway = "https://u:pw@gw" }, "carries credentials"},
		{"gateway with a query", func(o *Options) { o.Gateway = "https://gw/?a=1" }, "query or fragment"},
		{"gateway not a URL", func(o *Options) { o.Gateway = "http://gw:port:x" }, "is not a URL"},
		{"max body too small", func(o *Options) { o.MaxBody = 10 }, "--max-body 10"},
		{"max body too large", func(o *Options) { o.MaxBody = MaxMaxBody + 1 }, "--max-body"},
		{"negative keys cache", func(o *Options) { o.KeysCache = -time.Second }, "--keys-cache -1s"},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "--rate -1"},
		{"negative burst", func(o *Options) { o.Burst = -1 }, "--burst -1"},
		{"negative in-flight", func(o *Options) { o.MaxInFlight = -1 }, "--max-in-flight -1"},
		{"request timeout under gateway timeout", func(o *Options) { o.RequestTimeout, o.GatewayTimeout = time.Second, 2*time.Second },
			"--request-timeout 1s must exceed --gateway-timeout 2s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			_, err := ProvideSettings(o)
			if err == nil || !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ProvideSettings = %v, want an invalid-input error mentioning %q", err, c.want)
			}
		})
	}
	if strings.Contains(func() string { _, err := ProvideSettings(Options{Gateway: "https://u:pw@gw"}); return err.Error() }(), "pw") {
		t.Error("the error about a --gateway with credentials repeats the password")
	}
}
