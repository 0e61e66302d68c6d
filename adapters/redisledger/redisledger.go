// Package redisledger is a domain.SpentLedger in Redis, for aegisd replicas
// that share one record of spent tokens: any replica may redeem any token, and
// a token is accepted at most once across all of them.
//
// # Keys
//
// A spent nonce is one key, "<Prefix><partition>:<hex SHA-256 of the nonce>"
// (Prefix defaults to "aegis:spent:"), holding "1". The nonce itself is never
// sent to Redis. MarkSpent is one "SET key 1 NX PX <TTL>": Redis executes
// commands one at a time, so of any number of concurrent calls for a nonce, in
// any number of processes, exactly one sets the key and reports the nonce
// fresh. The expiry is the issuer key's lifetime (Config.TTL): a token cannot be
// redeemed once its key has retired, so its mark is no longer needed then.
// DropPartition SCANs the partition's keys and UNLINKs them; SCAN walks the
// whole database, so it costs time in proportion to all keys, once per retired
// issuer key.
//
// # Failing closed
//
// Any error from Redis, a timeout, or a lost connection makes MarkSpent return
// an error, never "not spent": the caller (the token origin) refuses the token.
// Commands are not retried, because a retried SET NX whose first try did land
// would report the caller's own mark as a replay.
//
// # Durability
//
// A mark is as durable as the Redis deployment makes it. With no persistence,
// a Redis restart forgets every mark and spent tokens of live keys could be
// redeemed again; run Redis with appendonly yes and appendfsync always (or
// everysec, accepting a second of marks at risk on a crash), and note that a
// failover to an asynchronous replica can lose the latest marks the same way.
// Redis Cluster is not supported (DropPartition scans one node).
package redisledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.SpentLedger = (*Ledger)(nil)

// DefaultPrefix is the key prefix when Config.Prefix is empty.
const DefaultPrefix = "aegis:spent:"

// Defaults of Config.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultTimeout     = 5 * time.Second
)

// maxPrefixLen bounds Config.Prefix.
const maxPrefixLen = 128

// scanCount is the COUNT hint of DropPartition's SCAN, and the most keys one
// UNLINK removes.
const scanCount = 1000

// Errors of Open, wrapped with the details. Callers match them with errors.Is.
var (
	// ErrUnreachable means no connection to Redis could be made.
	ErrUnreachable = errors.New("aegis/redisledger: Redis unreachable")
	// ErrAuth means Redis refused the password (or wants one and none was given).
	ErrAuth = errors.New("aegis/redisledger: Redis refused the password")
)

// Config says which Redis to use and how.
type Config struct {
	// Addr is host:port.
	Addr string
	// DB is the database number (SELECT), 0 by default.
	DB int
	// Username is the ACL user (Redis 6 and later); empty means "default".
	Username string
	// Password is sent with AUTH when not empty. It is never taken from a URL.
	Password string
	// Prefix starts every key (default DefaultPrefix): letters, digits and
	// ":", "_", "-", ".", no glob characters.
	Prefix string
	// TTL is how long a spent mark lives: the issuer key's lifetime. Required (> 0).
	TTL time.Duration
	// DialTimeout bounds each connect (default DefaultDialTimeout).
	DialTimeout time.Duration
	// Timeout bounds each command's read and write (default DefaultTimeout).
	Timeout time.Duration
	// PoolSize is the most connections kept (default: go-redis's, 10 per CPU).
	PoolSize int
}

// String describes the configuration without the password.
func (c Config) String() string {
	pw := "no password"
	if c.Password != "" {
		pw = "password set"
	}
	return fmt.Sprintf("redis://%s/%d (prefix %q, ttl %v, %s)", c.Addr, c.DB, c.Prefix, c.TTL, pw)
}

// GoString is String, so that %#v prints no password either.
func (c Config) GoString() string { return "redisledger.Config(" + c.String() + ")" }

// ParseURL parses "redis://HOST:PORT[/DB]" (DB defaults to 0). A user or
// password in the URL, a query, a fragment or another scheme is refused with an
// error wrapping domain.ErrInvalidInput: the password comes from elsewhere (aegisd
// reads AEGISD_REDIS_PASSWORD) and is set in Config.Password. TTL is left zero
// for the caller to set.
func ParseURL(raw string) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("aegis/redisledger: URL %q: %s: %w", openurl.Redact(raw), fmt.Sprintf(format, args...), domain.ErrInvalidInput)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "redis" {
		if u.Scheme == "rediss" {
			return bad("TLS (rediss://) is not supported; use redis:// on a trusted network or a TLS tunnel")
		}
		return bad("the scheme must be redis://")
	}
	if u.User != nil {
		return bad("credentials do not belong in the URL; give the password separately (aegisd: AEGISD_REDIS_PASSWORD)")
	}
	if u.Opaque != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("want redis://HOST:PORT[/DB] with no query or fragment")
	}
	cfg := Config{Addr: u.Host}
	if err := checkAddr(cfg.Addr); err != nil {
		return bad("%v", err)
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 || db > 1<<20 || strconv.Itoa(db) != p {
			return bad("the path must be a database number, got %q", p)
		}
		cfg.DB = db
	}
	return cfg, nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want HOST:PORT", addr)
	}
	if host == "" {
		return fmt.Errorf("address %q: the host is empty", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

func checkPrefix(p string) error {
	if p == "" || len(p) > maxPrefixLen {
		return fmt.Errorf("key prefix of %d bytes, want 1 to %d", len(p), maxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("key prefix %q: only letters, digits, ':', '_', '-' and '.' are allowed", p)
		}
	}
	return nil
}

// Ledger is a domain.SpentLedger in Redis. It is safe for concurrent use, and
// any number of Ledgers in any number of processes may share one Redis.
type Ledger struct {
	cfg    Config
	client *redis.Client
}

// Open connects to Redis and checks, within ctx, that it answers (ErrUnreachable)
// and accepts the password (ErrAuth) with a PING. A Config that does not
// validate is an error wrapping domain.ErrInvalidInput.
func Open(ctx context.Context, cfg Config) (*Ledger, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	invalid := func(err error) (*Ledger, error) {
		return nil, fmt.Errorf("aegis/redisledger: config %s: %v: %w", cfg, err, domain.ErrInvalidInput)
	}
	if err := checkAddr(cfg.Addr); err != nil {
		return invalid(err)
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return invalid(err)
	}
	if cfg.TTL <= 0 {
		return invalid(errors.New("TTL must be positive: the issuer key's lifetime"))
	}
	if cfg.DB < 0 {
		return invalid(fmt.Errorf("database %d is negative", cfg.DB))
	}
	client := redis.NewClient(&redis.Options{
		Addr:                  cfg.Addr,
		DB:                    cfg.DB,
		Username:              cfg.Username,
		Password:              cfg.Password,
		DialTimeout:           cfg.DialTimeout,
		DialerRetries:         1,
		ReadTimeout:           cfg.Timeout,
		WriteTimeout:          cfg.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // see the package doc: a retried SET NX could report our own mark as a replay
		PoolSize:              cfg.PoolSize,
		DisableIdentity:       true,
		Protocol:              2,
	})
	l := &Ledger{cfg: cfg, client: client}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, l.openError(ctx, err)
	}
	return l, nil
}

// openError sorts a failed PING into ErrAuth, ErrUnreachable or a plain error.
func (l *Ledger) openError(ctx context.Context, err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"),
		strings.Contains(msg, "invalid password"), strings.Contains(msg, "without any password configured"):
		return fmt.Errorf("%w: %s: %v", ErrAuth, l.cfg.Addr, err)
	case strings.Contains(msg, "DB index is out of range"):
		return fmt.Errorf("aegis/redisledger: %s: database %d does not exist: %v: %w", l.cfg.Addr, l.cfg.DB, err, domain.ErrInvalidInput)
	}
	var redisErr redis.Error
	if errors.As(err, &redisErr) {
		return fmt.Errorf("aegis/redisledger: open %s: %w", l.cfg.Addr, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: no answer from %s within the time allowed: %w", ErrUnreachable, l.cfg.Addr, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, l.cfg.Addr, err)
}

// Close closes the connections. The Ledger must not be used afterwards.
func (l *Ledger) Close() error {
	if err := l.client.Close(); err != nil {
		return fmt.Errorf("aegis/redisledger: close: %w", err)
	}
	return nil
}

// Config returns the ledger's configuration (with defaults applied).
func (l *Ledger) Config() Config { return l.cfg }

// Key returns the Redis key that records nonce as spent in partition. It is
// exported for tests and operators; the arguments are not checked.
func (l *Ledger) Key(partition string, nonce []byte) string {
	sum := sha256.Sum256(nonce)
	return l.cfg.Prefix + partition + ":" + hex.EncodeToString(sum[:])
}

// MarkSpent records nonce as spent in partition with SET NX PX and reports
// whether it already was. Any Redis failure is an error (never "not spent").
func (l *Ledger) MarkSpent(ctx context.Context, partition string, nonce []byte) (alreadySpent bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("aegis/redisledger: mark spent: %w", err)
	}
	if err := domain.CheckLedgerArgs(partition, nonce); err != nil {
		return false, err
	}
	res, err := l.client.SetArgs(ctx, l.Key(partition, nonce), "1", redis.SetArgs{Mode: "NX", TTL: l.cfg.TTL}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("aegis/redisledger: mark spent in partition %s: %w", partition, err)
	case res != "OK":
		return false, fmt.Errorf("aegis/redisledger: mark spent in partition %s: unexpected reply %q to SET NX", partition, res)
	}
	return false, nil
}

// DropPartition removes every key of partition: SCAN with a MATCH pattern and
// UNLINK of what it finds, until the scan is complete. Marks made while it
// runs may survive.
func (l *Ledger) DropPartition(ctx context.Context, partition string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/redisledger: drop partition: %w", err)
	}
	if err := domain.CheckPartition(partition); err != nil {
		return err
	}
	// Prefix and partition hold no glob characters (checked), so the pattern
	// matches exactly the partition's keys.
	pattern := l.cfg.Prefix + partition + ":*"
	var cursor uint64
	for {
		keys, next, err := l.client.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return fmt.Errorf("aegis/redisledger: drop partition %s: scan: %w", partition, err)
		}
		if len(keys) > 0 {
			if err := l.client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("aegis/redisledger: drop partition %s: unlink: %w", partition, err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
