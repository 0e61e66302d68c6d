package redisledger_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/redisledger"
	"github.com/ai-pantheon/aegis/domain"
)

func TestParseURL(t *testing.T) {
	cases := map[string]redisledger.Config{
		"redis://127.0.0.1:6379":     {Addr: "127.0.0.1:6379"},
		"redis://127.0.0.1:6379/":    {Addr: "127.0.0.1:6379"},
		"redis://redis.internal:1/7": {Addr: "redis.internal:1", DB: 7},
		"redis://[::1]:6380/0":       {Addr: "[::1]:6380"},
	}
	for raw, want := range cases {
		got, err := redisledger.ParseURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %#v, %v; want %#v", raw, got, err, want)
		}
	}
}

func TestParseURLRefuses(t *testing.T) {
	cases := map[string]string{
		"":                              "scheme",
		"http://h:1":                    "scheme",
		"rediss://h:1":                  "TLS",
		"redis://:secret@h:1/0":         "credentials do not belong",
		"redis://user:secret@h:1/0":     "credentials do not belong",
		"redis://h:1/0?password=secret": "no query",
		"redis://h:1/0#x":               "no query",
		"redis://h":                     "HOST:PORT",
		"redis://h:0":                   "port",
		"redis://h:65536":               "port",
		"redis://:6379":                 "host is empty",
		"redis://h:1/x":                 "database number",
		"redis://h:1/-1":                "database number",
		"redis://h:1/01":                "database number",
		"redis://h:1/0/1":               "database number",
	}
	for raw, want := range cases {
		_, err := redisledger.ParseURL(raw)
		if !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want ErrInvalidInput mentioning %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q) echoes the password: %v", raw, err)
		}
	}
}

func TestConfigDoesNotPrintThePassword(t *testing.T) {
	cfg := redisledger.Config{Addr: "h:1", Password: "hunter2", TTL: time.Hour}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("a formatted Config shows the password: %s", s)
		}
	}
}

func TestOpenValidatesConfig(t *testing.T) {
	good := redisledger.Config{Addr: "127.0.0.1:1", TTL: time.Hour}
	cases := map[string]func(*redisledger.Config){
		"no TTL":          func(c *redisledger.Config) { c.TTL = 0 },
		"negative TTL":    func(c *redisledger.Config) { c.TTL = -time.Second },
		"no address":      func(c *redisledger.Config) { c.Addr = "" },
		"glob in prefix":  func(c *redisledger.Config) { c.Prefix = "aegis:*" },
		"negative DB":     func(c *redisledger.Config) { c.DB = -1 },
		"space in prefix": func(c *redisledger.Config) { c.Prefix = "a b" },
	}
	for name, mutate := range cases {
		cfg := good
		mutate(&cfg)
		if _, err := redisledger.Open(t.Context(), cfg); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%s: Open = %v, want ErrInvalidInput", name, err)
		}
	}
}

// Nothing listening: Open fails with ErrUnreachable naming the address, and
// there is no fallback.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = redisledger.Open(t.Context(), redisledger.Config{Addr: addr, TTL: time.Hour})
	if !errors.Is(err, redisledger.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open of a closed port: %v, want ErrUnreachable naming %s", err, addr)
	}
}

// FuzzParseURL: no input panics; an accepted URL has a valid address, and a
// rejected one is ErrInvalidInput that does not echo a password.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"redis://127.0.0.1:6379/0", "redis://:pw@h:1", "rediss://h:1", "redis://h:1/9?x#y", "redis://[::1]:1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := redisledger.ParseURL(raw)
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidInput) {
				t.Fatalf("ParseURL(%q) = %v, not ErrInvalidInput", raw, err)
			}
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				// The password may also appear in the rest of the URL (a host of the
				// same digits): only more occurrences than the redacted URL has count.
				if pw, ok := u.User.Password(); ok && len(pw) >= 8 && strings.Count(err.Error(), pw) > strings.Count(u.Redacted(), pw) {
					t.Fatalf("ParseURL(%q) echoes the password: %v", raw, err)
				}
			}
			return
		}
		if cfg.Password != "" || cfg.DB < 0 {
			t.Fatalf("ParseURL(%q) = %#v", raw, cfg)
		}
		if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
			t.Fatalf("ParseURL(%q) accepted address %q: %v", raw, cfg.Addr, err)
		}
	})
}
