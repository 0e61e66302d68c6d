package relay

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/apps/internal/server"
)

// Error codes of the relay's JSON error body {"error":{"code":"…","message":"…"}},
// besides aegisd's (server.CodeBadRequest 400, server.CodeRouteNotFound 404,
// server.CodeMethodNotAllowed 405, server.CodeBodyTooLarge 413,
// server.CodeUnsupportedMedia 415, server.CodeBusy 503, server.CodeInternal 500).
// Clients match on the code, never on the message.
const (
	// CodeRateLimited (429, with Retry-After): the client's connection made
	// more requests than --rate and --burst allow; nothing was forwarded.
	CodeRateLimited = "rate_limited"
	// CodeGatewayUnreachable (502): the gateway could not be reached, or did
	// not answer within --gateway-timeout. The request may have reached it.
	CodeGatewayUnreachable = "gateway_unreachable"
	// CodeGatewayError (502): the gateway answered with an error status (the
	// message names its class) that the relay does not pass on.
	CodeGatewayError = "gateway_error"
	// CodeGatewayGarbage (502): the gateway's answer was of the wrong media
	// type or over the size bound.
	CodeGatewayGarbage = "gateway_garbage"
)

// relayError is an error with its HTTP status and stable code. Handlers
// return it; handleError writes it.
type relayError struct {
	status  int
	code    string
	message string
	header  map[string]string
}

func (e *relayError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, message string) *relayError {
	return &relayError{status: status, code: code, message: message}
}

// errorBody is aegisd's JSON error body.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handleError is the Echo HTTPErrorHandler: every error becomes a JSON error
// body with a stable code and Cache-Control: no-store. Internal details are
// never sent.
func handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var re *relayError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &re):
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			re = newError(http.StatusNotFound, server.CodeRouteNotFound, "no such endpoint")
		case http.StatusMethodNotAllowed:
			re = newError(http.StatusMethodNotAllowed, server.CodeMethodNotAllowed, "method not allowed on this endpoint")
		case http.StatusRequestEntityTooLarge:
			re = newError(he.Code, server.CodeBodyTooLarge, "request body too large")
		case http.StatusUnsupportedMediaType:
			re = newError(he.Code, server.CodeUnsupportedMedia, "unsupported media type")
		default:
			if he.Code >= 400 && he.Code < 500 {
				re = newError(he.Code, server.CodeBadRequest, http.StatusText(he.Code))
			} else {
				re = newError(http.StatusInternalServerError, server.CodeInternal, "internal error")
			}
		}
	default:
		re = newError(http.StatusInternalServerError, server.CodeInternal, "internal error")
	}
	h := c.Response().Header()
	for k, v := range re.header {
		h.Set(k, v)
	}
	h.Set(echo.HeaderCacheControl, "no-store")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(re.status)
		return
	}
	var body errorBody
	body.Error.Code, body.Error.Message = re.code, re.message
	_ = c.JSON(re.status, body)
}
