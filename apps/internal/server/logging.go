package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

// Log formats of NewLogger (the --log-format values of aegisd and aegis-relay).
const (
	LogFormatText = "text" // logfmt-style key=value lines (slog.TextHandler)
	LogFormatJSON = "json" // one JSON object a line (slog.JSONHandler)
)

// Keys of the attributes a log line may carry. The privacy handler drops
// every other attribute, so that nothing about a client (address, port, user
// agent, token, path, query) can reach the log through a careless call.
const (
	LogKeyMethod = "method" // the request method, or OTHER (LogMethod)
	LogKeyRoute  = "route"  // the route pattern, never the path; "unmatched" for any other path
	LogKeyStatus = "status" // the status answered
	LogKeySize   = "size"   // SizeBucket of the larger of request and response body
	LogKeyError  = "error"  // an operator-facing failure (a reload that failed), never about a client
)

var logKeys = map[string]bool{LogKeyMethod: true, LogKeyRoute: true, LogKeyStatus: true, LogKeySize: true, LogKeyError: true}

// CheckLogFormat returns nil for "text" and "json", else an error naming the
// value and what is accepted.
func CheckLogFormat(format string) error {
	if format != LogFormatText && format != LogFormatJSON {
		return fmt.Errorf("--log-format %q: want %s or %s", format, LogFormatText, LogFormatJSON)
	}
	return nil
}

// NewLogger returns the logger of aegisd and aegis-relay, writing to w (nil:
// standard error) in format (LogFormatText, also for "", or LogFormatJSON)
// through the privacy handler: every
// timestamp is truncated to LogWindow and written in UTC (RFC 3339, key
// "time"), and only the attributes of the LogKey constants are kept.
func NewLogger(w io.Writer, format string) (*slog.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	if format == "" {
		format = LogFormatText
	}
	if err := CheckLogFormat(format); err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
			return slog.String(slog.TimeKey, a.Value.Time().UTC().Format(time.RFC3339))
		}
		return a
	}}
	var h slog.Handler
	if format == LogFormatJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(PrivacyHandler(h)), nil
}

// PrivacyHandler wraps h: each record's time is truncated to LogWindow (in
// UTC), and attributes whose key is not one of the LogKey constants are
// dropped, in records, in With and in groups.
func PrivacyHandler(h slog.Handler) slog.Handler { return privacyHandler{h} }

type privacyHandler struct{ inner slog.Handler }

func (p privacyHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return p.inner.Enabled(ctx, l)
}

func (p privacyHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time.UTC().Truncate(LogWindow), r.Level, r.Message, 0)
	r.Attrs(func(a slog.Attr) bool {
		if !logKeys[a.Key] {
			return true // not one of the LogKey attributes: dropped
		}
		out.AddAttrs(a)
		return true
	})
	return p.inner.Handle(ctx, out)
}

func (p privacyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if logKeys[a.Key] {
			kept = append(kept, a)
		}
	}
	return privacyHandler{p.inner.WithAttrs(kept)}
}

func (p privacyHandler) WithGroup(name string) slog.Handler {
	return privacyHandler{p.inner.WithGroup(name)}
}

// LogMethod returns m if it is a standard method, else "OTHER": a client
// cannot put arbitrary text into the log or metric labels.
func LogMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodPatch:
		return m
	}
	return "OTHER"
}

// LogRequests is the request-logging middleware of aegisd and aegis-relay. It
// runs the handler, writes its error (so the status is final), and writes one
// line "request" per request to lg: the method (LogMethod), the route
// pattern (never the path, which holds the object id; "unmatched" unless
// known(route)), the status and the size bucket of the larger of request and
// response body. Nothing about the client is written. count, if not nil, is
// called with the same method, route and status.
func LogRequests(lg *slog.Logger, known func(route string) bool, count func(method, route string, status int)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := next(c); err != nil {
				c.Error(err) // writes the response, so the status below is final
			}
			route := c.Path()
			if !known(route) {
				route = "unmatched"
			}
			res := c.Response()
			method := LogMethod(c.Request().Method)
			if count != nil {
				count(method, route, res.Status)
			}
			lg.LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String(LogKeyMethod, method), slog.String(LogKeyRoute, route), slog.Int(LogKeyStatus, res.Status),
				slog.String(LogKeySize, SizeBucket(max(res.Size, c.Request().ContentLength))))
			return nil
		}
	}
}
