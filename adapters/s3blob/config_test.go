package s3blob

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw  string
		want Config
	}{
		{"s3://aegis-data", Config{Endpoint: DefaultEndpoint, Region: DefaultRegion, Bucket: "aegis-data", Secure: true, CAS: CASConditional}},
		{"s3://aegis-data/vaults/prod?endpoint=127.0.0.1:9000&region=eu-west-1&tls=false",
			Config{Endpoint: "127.0.0.1:9000", Region: "eu-west-1", Bucket: "aegis-data", Prefix: "vaults/prod", CAS: CASConditional}},
		{"s3://b.example-1/p/?endpoint=minio.internal&tls=true&cas=single-process",
			Config{Endpoint: "minio.internal", Region: DefaultRegion, Bucket: "b.example-1", Prefix: "p", Secure: true, CAS: CASSingleProcess}},
		{"s3://abc?endpoint=[::1]:9000&cas=conditional", Config{Endpoint: "[::1]:9000", Region: DefaultRegion, Bucket: "abc", Secure: true, CAS: CASConditional}},
	}
	for _, c := range cases {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q) = %#v, want %#v", c.raw, got, c.want)
		}
	}
}

func TestParseURLRefuses(t *testing.T) {
	cases := map[string]string{
		"":                                        "scheme",
		"http://bucket":                           "scheme",
		"s3:bucket":                               "BUCKET",
		"s3://key:secret@bucket":                  "credentials do not belong",
		"s3://bucket?endpoint=h:1&endpoint=h:2":   "given 2 times",
		"s3://bucket?secret=x":                    `unknown parameter "secret"`,
		"s3://bucket?tls=maybe":                   "tls=",
		"s3://bucket?cas=optimistic":              "cas mode",
		"s3://bucket?endpoint=http://h:9000":      "without a scheme",
		"s3://bucket?endpoint=h:0":                "port",
		"s3://bucket?endpoint=h:99999":            "port",
		"s3://bucket?endpoint=":                   "endpoint is empty",
		"s3://bucket?region=us%20east":            "region",
		"s3://Bucket":                             "bucket name",
		"s3://ab":                                 "bucket name",
		"s3://-bucket":                            "bucket name",
		"s3://a..b":                               "bucket name",
		"s3://192.168.1.1":                        "bucket name",
		"s3://bucket/a//b":                        "segment",
		"s3://bucket/a/../b":                      "segment",
		"s3://bucket/a%2Fb":                       "escaped",
		"s3://bucket/a b":                         "only letters",
		"s3://bucket#frag":                        "fragment",
		"s3://bucket/" + strings.Repeat("p", 600): "prefix of",
	}
	for raw, want := range cases {
		_, err := ParseURL(raw)
		if !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("ParseURL(%q) = %v, want an error wrapping ErrInvalidInput", raw, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want it to mention %q", raw, err, want)
		}
	}
}

func TestParseURLDoesNotEchoCredentials(t *testing.T) {
	_, err := ParseURL("s3://AKIAEXAMPLE:topsecret@bucket")
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error %v shows the secret", err)
	}
	for _, raw := range []string{"s3://AKIAEXAMPLE:topsecret@bucket/%zz", "s3://bucket?secret_key=topsecret", "s3://bucket?x=%zz&k=topsecret"} {
		_, err = ParseURL(raw)
		if err == nil || strings.Contains(err.Error(), "topsecret") {
			t.Fatalf("ParseURL(%q) = %v: shows the secret", raw, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{EnvAccessKey: "AKIAEXAMPLE", EnvSecretKey: "s3cr3t", EnvSessionToken: "tok"}
	cfg, err := ConfigFromEnv("s3://bucket?endpoint=127.0.0.1:9000&tls=false", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessKey != "AKIAEXAMPLE" || cfg.SecretKey != "s3cr3t" || cfg.SessionToken != "tok" || cfg.Endpoint != "127.0.0.1:9000" {
		t.Fatalf("ConfigFromEnv = %#v", cfg)
	}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "tok") {
			t.Fatalf("a formatted Config shows a secret: %s", s)
		}
	}

	delete(env, EnvSecretKey)
	_, err = ConfigFromEnv("s3://bucket", func(k string) string { return env[k] })
	if !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), EnvSecretKey) {
		t.Fatalf("ConfigFromEnv without a secret key: %v", err)
	}
	_, err = ConfigFromEnv("s3://bucket", func(string) string { return "" })
	if !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), EnvAccessKey) || !strings.Contains(err.Error(), EnvSecretKey) {
		t.Fatalf("ConfigFromEnv with no credentials: %v", err)
	}
}

// Open refuses a hand-made Config that ParseURL would not produce, before it
// sends anything.
func TestOpenValidatesConfig(t *testing.T) {
	good := Config{Endpoint: "127.0.0.1:1", Bucket: "bucket", AccessKey: "a", SecretKey: "s"}
	cases := map[string]func(*Config){
		"no access key": func(c *Config) { c.AccessKey = "" },
		"no secret key": func(c *Config) { c.SecretKey = "" },
		"bad bucket":    func(c *Config) { c.Bucket = "B" },
		"slash prefix":  func(c *Config) { c.Prefix = "/p" },
		"bad CAS mode":  func(c *Config) { c.CAS = "sometimes" },
		"no endpoint":   func(c *Config) { c.Endpoint = "" },
	}
	for name, mutate := range cases {
		cfg := good
		mutate(&cfg)
		if _, err := Open(t.Context(), cfg); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%s: Open = %v, want ErrInvalidInput", name, err)
		}
	}
}

// FuzzParseURL: no input panics; whatever is accepted is a valid location that
// prints without secrets and parses back to itself.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"s3://aegis-data", "s3://b/p/q?endpoint=127.0.0.1:9000&region=r&tls=false&cas=single-process",
		"s3://u:p@b", "s3://b?x=1", "s3://b/%41", "s3://b?endpoint=[::1]:1", "s3://b#f", "s3:b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := ParseURL(raw)
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidInput) {
				t.Fatalf("ParseURL(%q) = %v, not ErrInvalidInput", raw, err)
			}
			return
		}
		if err := cfg.validateLocation(); err != nil {
			t.Fatalf("ParseURL(%q) accepted an invalid config: %v", raw, err)
		}
		if cfg.AccessKey != "" || cfg.SecretKey != "" || cfg.SessionToken != "" {
			t.Fatalf("ParseURL(%q) set credentials", raw)
		}
		back, err := ParseURL(cfg.url())
		if err != nil || back != cfg {
			t.Fatalf("ParseURL(%q) = %#v; its URL %q parses to %#v, %v", raw, cfg, cfg.url(), back, err)
		}
	})
}
