package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
)

// Stable error codes of the JSON error body {"error":{"code":"…","message":"…"}}.
// docs/http-api.md lists them; clients match on the code, never on the message.
// Only busy (the limit middleware, before anything else) and unavailable (the
// ledger, before the handler) mean that nothing was done: a client may resend
// a compare-and-swap or a delete after those two only.
const (
	CodeBadRequest           = "bad_request"            // 400: malformed query, header or body
	CodeInvalidObjectID      = "invalid_object_id"      // 400: not 64 lowercase hex characters
	CodeInvalidSize          = "invalid_size"           // 400: body is not one of the allowed object sizes
	CodeUnsupportedPrecond   = "unsupported_condition"  // 400: a conditional header the API does not support
	CodeWriteEnablerRequired = "write_enabler_required" // 400: PUT or DELETE without exactly one well-formed Aegis-Write-Enabler
	CodeTokenRequired        = "token_required"         // 401: no PrivateToken authorization
	CodeTokenInvalid         = "token_invalid"          // 401: token malformed, unknown key, or does not verify
	CodeTokenSpent           = "token_spent"            // 401: token already redeemed
	CodeAttestationRequired  = "attestation_required"   // 401: missing or wrong bearer attestation secret
	CodeIssuanceDisabled     = "issuance_disabled"      // 403: no attestation secret configured
	CodeObjectNotFound       = "object_not_found"       // 404: no such object (or DELETE with another enabler)
	CodeRouteNotFound        = "route_not_found"        // 404: no such endpoint
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodePreconditionFailed   = "precondition_failed"    // 412: If-Match / If-None-Match did not hold, or PUT with another enabler
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeUnsupportedMedia     = "unsupported_media_type" // 415
	CodeUnprocessableBatch   = "unprocessable_batch"    // 422: batched token request malformed, of an unsupported type, for an unknown key or over the batch limit
	// Answers of the Oblivious HTTP gateway to an encapsulated request it does
	// not open (plain, so the relay sees them). The three key problems are
	// application/problem+json of the RFC 9458 problem type ohttp-key.
	CodeOHTTPMalformed   = "ohttp_malformed"   // 400: encapsulated request too short for its header, enc and tag, or an unusable enc
	CodeOHTTPUnknownKey  = "ohttp_unknown_key" // 400 (problem ohttp-key): a key id the gateway does not hold (expired, or never its own)
	CodeOHTTPUnsupported = "ohttp_unsupported" // 400 (problem ohttp-key): a KEM, KDF or AEAD other than X25519, HKDF-SHA256, AES-128-GCM
	CodeOHTTPDecrypt     = "ohttp_decrypt"     // 400 (problem ohttp-key): the request does not open with the key of its key id
	CodeOHTTPReplayed    = "ohttp_replayed"    // 400: the same encapsulation (its enc) was already served with that key
	// Answers of the gateway inside the encapsulated response (only the client reads them).
	CodeMalformedMessage = "malformed_message"      // 400: the decapsulated request is not a known-length Binary HTTP request
	CodeOHTTPNested      = "ohttp_nested"           // 400: an encapsulated request for the gateway itself (only GET of its keys is served)
	CodeBusy             = httpwire.CodeBusy        // 503: concurrency limit reached, nothing was done
	CodeUnavailable      = httpwire.CodeUnavailable // 503: the spent-token ledger failed, nothing was done
	CodeRequestCancelled = "request_cancelled"      // 503: the request's context ended; it may or may not have been applied
	CodeInternal         = "internal"               // 500
)

// APIError is an error with its HTTP status and stable code. Handlers (of
// aegisd and of aegis-relay) return it; HandleError writes it as JSON.
type APIError struct {
	status  int
	code    string
	message string
	header  map[string]string
	// problem, if set, is the RFC 9457 problem type: the body is then
	// application/problem+json, with the error object as an extension member.
	problem string
}

func (e *APIError) Error() string { return e.code + ": " + e.message }

// Code returns the stable error code.
func (e *APIError) Code() string { return e.code }

// NewError returns the error answered with status and the JSON error body of
// code and message.
func NewError(status int, code, message string) *APIError {
	return &APIError{status: status, code: code, message: message}
}

// WithHeader sets a header field of the answer (Retry-After,
// WWW-Authenticate) and returns e.
func (e *APIError) WithHeader(key, value string) *APIError {
	if e.header == nil {
		e.header = map[string]string{}
	}
	e.header[key] = value
	return e
}

type errorBody struct {
	// Type, Title and Status are the RFC 9457 members of a problem body
	// (apiError.problem set); other errors have only Error.
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Error  struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ProblemMediaType is the media type of an RFC 9457 problem details body.
const ProblemMediaType = "application/problem+json"

// HandleError is the Echo HTTPErrorHandler of aegisd and aegis-relay: every
// error becomes a JSON error body with a stable code and Cache-Control:
// no-store (an error is never cached). Internal details are never sent to
// the client.
func HandleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *APIError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			ae = NewError(http.StatusNotFound, CodeRouteNotFound, "no such endpoint")
		case http.StatusMethodNotAllowed:
			ae = NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed on this endpoint")
		case http.StatusRequestEntityTooLarge:
			ae = NewError(he.Code, CodeBodyTooLarge, "request body too large")
		case http.StatusUnsupportedMediaType:
			ae = NewError(he.Code, CodeUnsupportedMedia, "unsupported media type")
		default:
			if he.Code >= 400 && he.Code < 500 {
				ae = NewError(he.Code, CodeBadRequest, http.StatusText(he.Code))
			} else {
				ae = NewError(http.StatusInternalServerError, CodeInternal, "internal error")
			}
		}
	default:
		ae = NewError(http.StatusInternalServerError, CodeInternal, "internal error")
	}
	h := c.Response().Header()
	for k, v := range ae.header {
		h.Set(k, v)
	}
	h.Set(echo.HeaderCacheControl, "no-store")
	var body errorBody
	body.Error.Code, body.Error.Message = ae.code, ae.message
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.status)
		return
	}
	if ae.problem != "" {
		body.Type, body.Title, body.Status = ae.problem, ae.message, ae.status
		h.Set(echo.HeaderContentType, ProblemMediaType)
		c.Response().WriteHeader(ae.status)
		_ = writeJSON(c.Response(), body)
		return
	}
	_ = c.JSON(ae.status, body)
}
