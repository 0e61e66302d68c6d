package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/apps/internal/server"
)

// TestPrivacyHandler checks that whatever a caller passes, a log line holds
// only the LogKey attributes and a time truncated to the log window, in both
// formats.
func TestPrivacyHandler(t *testing.T) {
	at := time.Date(2026, 12, 4, 3, 4, 57, 123456789, time.FixedZone("X", 3600))
	for _, format := range []string{server.LogFormatText, server.LogFormatJSON} {
		var b bytes.Buffer
		lg, err := server.NewLogger(&b, format)
		if err != nil {
			t.Fatal(err)
		}
		lg = lg.With(slog.String("remote_addr", "203.0.113.9:5555"), slog.String(server.LogKeyRoute, "/healthz"))
		r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("user_agent", "SpyBrowser/1.0"), slog.String("path", "/v1/objects/secret-id"),
			slog.String(server.LogKeyMethod, "GET"), slog.Int(server.LogKeyStatus, 200), slog.String(server.LogKeySize, "0"))
		if err := lg.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		line := b.String()
		for _, s := range []string{"203.0.113.9", "5555", "SpyBrowser", "secret-id", "remote_addr", "user_agent", "path", ":57", "02:04:57", "123"} {
			if strings.Contains(line, s) {
				t.Errorf("%s: %q holds %q", format, line, s)
			}
		}
		switch format {
		case server.LogFormatText:
			want := "time=2026-12-04T02:04:50Z level=INFO msg=request route=/healthz method=GET status=200 size=0\n"
			if line != want {
				t.Errorf("text line %q, want %q", line, want)
			}
		case server.LogFormatJSON:
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("json line %q: %v", line, err)
			}
			want := map[string]any{"time": "2026-12-04T02:04:50Z", "level": "INFO", "msg": "request", "route": "/healthz", "method": "GET", "status": 200.0, "size": "0"}
			if len(m) != len(want) {
				t.Errorf("json line %v, want %v", m, want)
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("json %s = %v, want %v", k, m[k], v)
				}
			}
		}
	}
}

func TestLogFormatRefused(t *testing.T) {
	for _, f := range []string{"TEXT", "yaml", "json ", "-"} {
		if _, err := server.NewLogger(&bytes.Buffer{}, f); err == nil || !strings.Contains(err.Error(), "--log-format") {
			t.Errorf("NewLogger(%q) = %v, want an error naming --log-format", f, err)
		}
	}
}
