package relay

import "github.com/ai-pantheon/aegis/adapters/httpwire"

// The relay's errors are server.APIError values (server.NewError), written
// by aegisd's error handler, server.HandleError.

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
	CodeGatewayUnreachable = httpwire.CodeGatewayUnreachable
	// CodeGatewayError (502): the gateway answered with an error status (the
	// message names its class) that the relay does not pass on.
	CodeGatewayError = "gateway_error"
	// CodeGatewayGarbage (502): the gateway's answer was of the wrong media
	// type or over the size bound.
	CodeGatewayGarbage = "gateway_garbage"
)
