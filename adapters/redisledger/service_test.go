package redisledger_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ai-pantheon/aegis/adapters/redisledger"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/ledgertest"
)

// The service tests run against a real Redis. `make test-services` starts one
// and sets these variables; without them the tests skip, unless
// AEGIS_TEST_SERVICES=1 says the services were meant to be there.
const (
	envRedisURL      = "AEGIS_TEST_REDIS_URL"
	envRedisPassword = "AEGIS_TEST_REDIS_PASSWORD"
	envServices      = "AEGIS_TEST_SERVICES"
)

const testTTL = 10 * time.Minute

// serviceConfig returns the test Redis's configuration with a key prefix of
// this test's own.
func serviceConfig(tb testing.TB) redisledger.Config {
	tb.Helper()
	raw := os.Getenv(envRedisURL)
	if raw == "" {
		if os.Getenv(envServices) == "1" {
			tb.Fatalf("redisledger service suite: %s is not set although %s=1", envRedisURL, envServices)
		}
		tb.Skipf("redisledger service suite not run: %s is not set; `make test-services` runs it against a real Redis", envRedisURL)
	}
	cfg, err := redisledger.ParseURL(raw)
	if err != nil {
		tb.Fatalf("%s: %v", envRedisURL, err)
	}
	cfg.Password = os.Getenv(envRedisPassword)
	cfg.Prefix = "aegis:test:" + randomHex(tb, 8) + ":"
	cfg.TTL = testTTL
	return cfg
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// openLedger opens cfg and removes every key under its prefix when the test ends.
func openLedger(tb testing.TB, cfg redisledger.Config) *redisledger.Ledger {
	tb.Helper()
	l, err := redisledger.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open(%s): %v", cfg, err)
	}
	tb.Cleanup(func() {
		raw := rawClient(tb, cfg)
		for _, k := range keysUnder(tb, raw, cfg.Prefix) {
			raw.Del(context.Background(), k)
		}
		if err := l.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return l
}

// rawClient is a plain go-redis client of the test Redis, to look at what the
// ledger wrote.
func rawClient(tb testing.TB, cfg redisledger.Config) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: cfg.Addr, DB: cfg.DB, Password: cfg.Password, Protocol: 2, DisableIdentity: true})
	tb.Cleanup(func() { c.Close() })
	return c
}

func keysUnder(tb testing.TB, c *redis.Client, prefix string) []string {
	tb.Helper()
	var all []string
	var cursor uint64
	for {
		keys, next, err := c.Scan(context.Background(), cursor, prefix+"*", 1000).Result()
		if err != nil {
			tb.Fatalf("SCAN: %v", err)
		}
		all = append(all, keys...)
		if next == 0 {
			return all
		}
		cursor = next
	}
}

func TestConformance(t *testing.T) {
	base := serviceConfig(t)
	ledgertest.Run(t, func(t *testing.T) domain.SpentLedger {
		cfg := base
		cfg.Prefix = base.Prefix + randomHex(t, 4) + ":"
		return openLedger(t, cfg)
	})
}

const part = "a1b2c3d4"

// A spent mark is one key, "<prefix><partition>:<hex SHA-256 of the nonce>",
// holding "1" with an expiry of at most the TTL: the nonce itself is not stored.
func TestKeyHoldsAHashWithExpiry(t *testing.T) {
	cfg := serviceConfig(t)
	l := openLedger(t, cfg)
	nonce := []byte("a nonce that must not be stored as such")
	if spent, err := l.MarkSpent(t.Context(), part, nonce); err != nil || spent {
		t.Fatalf("MarkSpent = %v, %v", spent, err)
	}
	raw := rawClient(t, cfg)
	keys := keysUnder(t, raw, cfg.Prefix)
	if len(keys) != 1 {
		t.Fatalf("keys under the prefix: %v, want one", keys)
	}
	if keys[0] != l.Key(part, nonce) || !strings.HasPrefix(keys[0], cfg.Prefix+part+":") {
		t.Fatalf("key %q, want %q", keys[0], l.Key(part, nonce))
	}
	if strings.Contains(keys[0], hex.EncodeToString(nonce)) || strings.Contains(keys[0], string(nonce)) {
		t.Fatalf("key %q holds the nonce", keys[0])
	}
	val, err := raw.Get(t.Context(), keys[0]).Result()
	if err != nil || val != "1" {
		t.Fatalf("value %q, %v; want \"1\"", val, err)
	}
	pttl, err := raw.PTTL(t.Context(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if pttl <= 0 || pttl > cfg.TTL {
		t.Fatalf("PTTL %v, want in (0, %v]", pttl, cfg.TTL)
	}
	// A replay leaves the expiry alone (SET NX does not touch an existing key).
	if spent, err := l.MarkSpent(t.Context(), part, nonce); err != nil || !spent {
		t.Fatalf("replay: MarkSpent = %v, %v", spent, err)
	}
	if again, _ := raw.PTTL(t.Context(), keys[0]).Result(); again > pttl {
		t.Fatalf("a replay extended the expiry from %v to %v", pttl, again)
	}
}

// A mark expires after the TTL: then the key is gone (its issuer key has retired).
func TestMarkExpires(t *testing.T) {
	cfg := serviceConfig(t)
	cfg.TTL = 50 * time.Millisecond
	l := openLedger(t, cfg)
	nonce := []byte("short-lived")
	if _, err := l.MarkSpent(t.Context(), part, nonce); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for raw.Exists(t.Context(), l.Key(part, nonce)).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the mark did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DropPartition removes every key of the partition, also more than one SCAN
// batch of them, and nothing of other partitions or other prefixes.
func TestDropPartitionIsConfined(t *testing.T) {
	cfg := serviceConfig(t)
	l := openLedger(t, cfg)
	otherCfg := cfg
	otherCfg.Prefix = cfg.Prefix + "other:"
	other := openLedger(t, otherCfg)
	raw := rawClient(t, cfg)

	// 2500 keys of the partition, written directly (quicker than MarkSpent).
	pipe := raw.Pipeline()
	for i := range 2500 {
		pipe.Set(t.Context(), l.Key(part, []byte(fmt.Sprint(i))), "1", time.Hour)
	}
	if _, err := pipe.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	keep := []byte("kept")
	for _, p := range []string{"a1b2c3d5", "a1b2c3d4ff", "a1b2"} { // neighbours of part
		if _, err := l.MarkSpent(t.Context(), p, keep); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.MarkSpent(t.Context(), part, keep); err != nil {
		t.Fatal(err)
	}
	if err := l.DropPartition(t.Context(), part); err != nil {
		t.Fatal(err)
	}
	if left := keysUnder(t, raw, cfg.Prefix+part+":"); len(left) != 0 {
		t.Fatalf("%d keys of the dropped partition left", len(left))
	}
	for _, p := range []string{"a1b2c3d5", "a1b2c3d4ff", "a1b2"} {
		if spent, err := l.MarkSpent(t.Context(), p, keep); err != nil || !spent {
			t.Fatalf("partition %s after dropping %s: spent=%v, %v; want still spent", p, part, spent, err)
		}
	}
	if spent, err := other.MarkSpent(t.Context(), part, keep); err != nil || !spent {
		t.Fatalf("the same partition under another prefix: spent=%v, %v; want still spent", spent, err)
	}
}

// 64 goroutines, two Ledgers (two replicas) marking one nonce: exactly one
// sees it fresh.
func TestConcurrentMarksAcrossLedgers(t *testing.T) {
	cfg := serviceConfig(t)
	ledgers := []*redisledger.Ledger{openLedger(t, cfg), openLedger(t, cfg)}
	for round := range 5 {
		nonce := []byte(fmt.Sprintf("contended nonce %d", round))
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			fresh int
			errs  []error
			start = make(chan struct{})
		)
		for g := range 64 {
			wg.Go(func() {
				<-start
				spent, err := ledgers[g%2].MarkSpent(context.Background(), part, nonce)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else if !spent {
					fresh++
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("round %d: %v", round, errors.Join(errs...))
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d of 64 MarkSpent calls saw the nonce fresh, want exactly 1", round, fresh)
		}
	}
}

func TestOpenWrongPassword(t *testing.T) {
	cfg := serviceConfig(t)
	if cfg.Password == "" {
		t.Fatalf("the test Redis has no password (%s is empty): the password path is not tested", envRedisPassword)
	}
	cfg.Password = "wrong-" + cfg.Password
	_, err := redisledger.Open(t.Context(), cfg)
	if !errors.Is(err, redisledger.ErrAuth) {
		t.Fatalf("Open with a wrong password: %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), cfg.Password) {
		t.Fatalf("the error shows the password: %v", err)
	}
	cfg.Password = ""
	if _, err := redisledger.Open(t.Context(), cfg); !errors.Is(err, redisledger.ErrAuth) {
		t.Fatalf("Open without the password: %v, want ErrAuth", err)
	}
}

func TestOpenMissingDatabase(t *testing.T) {
	cfg := serviceConfig(t)
	cfg.DB = 100000
	if _, err := redisledger.Open(t.Context(), cfg); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "100000") {
		t.Fatalf("Open of database 100000: %v, want ErrInvalidInput naming it", err)
	}
}

// privateRedis starts a redis-server of this test's own on a free port (no
// password, no persistence) and returns its address and a function that kills it.
func privateRedis(t *testing.T) (addr string, kill func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envServices) == "1" {
			t.Fatalf("redis-server is not on PATH: %v", err)
		}
		t.Skipf("redis-server is not on PATH; `make test-services` installs it and runs this test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	kill = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	t.Cleanup(kill)
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("private redis-server on %s did not answer:\n%s", addr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, kill
}

// Redis going away mid-run: every call fails with an error, and none reports
// a nonce as not spent (the origin refuses the token: fail closed).
func TestRedisGoesAwayFailsClosed(t *testing.T) {
	addr, kill := privateRedis(t)
	l, err := redisledger.Open(t.Context(), redisledger.Config{Addr: addr, TTL: time.Hour, Timeout: 2 * time.Second, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if spent, err := l.MarkSpent(t.Context(), part, []byte("before")); err != nil || spent {
		t.Fatalf("MarkSpent before the crash = %v, %v", spent, err)
	}
	kill()
	for i := range 3 {
		spent, err := l.MarkSpent(t.Context(), part, []byte(fmt.Sprintf("after %d", i)))
		if err == nil {
			t.Fatalf("MarkSpent with Redis gone = %v, nil; want an error", spent)
		}
		if spent {
			t.Fatalf("MarkSpent with Redis gone reported spent along with error %v", err)
		}
	}
	if err := l.DropPartition(t.Context(), part); err == nil {
		t.Fatal("DropPartition with Redis gone succeeded")
	}
}

// A slow Redis (a command that takes longer than the timeout) is an error,
// not a verdict.
func TestTimeoutFailsClosed(t *testing.T) {
	addr, _ := privateRedis(t)
	l, err := redisledger.Open(t.Context(), redisledger.Config{Addr: addr, TTL: time.Hour, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	// CLIENT PAUSE holds every client's commands for 2 s.
	if err := c.Do(t.Context(), "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	spent, err := l.MarkSpent(t.Context(), part, []byte("during the pause"))
	if err == nil || spent {
		t.Fatalf("MarkSpent while Redis is paused = %v, %v; want an error", spent, err)
	}
}

func BenchmarkMarkSpent(b *testing.B) {
	l := openLedger(b, serviceConfig(b))
	ctx := context.Background()
	nonce := make([]byte, 32)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		copy(nonce, fmt.Sprintf("%032d", i))
		i++
		if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || spent {
			b.Fatalf("MarkSpent = %v, %v", spent, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/mark")
	if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || !spent {
		b.Fatalf("MarkSpent of the last nonce again = %v, %v; want true", spent, err)
	}
}

func BenchmarkMarkSpentParallel(b *testing.B) {
	l := openLedger(b, serviceConfig(b))
	ctx := context.Background()
	var (
		mu   sync.Mutex
		last [][]byte // each goroutine's last nonce
	)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		nonce := make([]byte, 32)
		marked := false
		for pb.Next() {
			rand.Read(nonce)
			if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || spent {
				b.Errorf("MarkSpent = %v, %v", spent, err)
				return
			}
			marked = true
		}
		if marked {
			mu.Lock()
			last = append(last, nonce)
			mu.Unlock()
		}
	})
	if len(last) == 0 && !b.Failed() {
		b.Fatal("no nonce was marked")
	}
	for _, nonce := range last {
		if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || !spent {
			b.Fatalf("MarkSpent of a goroutine's last nonce again = %v, %v; want true", spent, err)
		}
	}
}
