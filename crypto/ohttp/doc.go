// Package ohttp implements the message encapsulation of Oblivious HTTP
// (RFC 9458): key configurations and the application/ohttp-keys format
// (section 3), Encapsulated Requests (sections 4.1 and 4.3) and Encapsulated
// Responses (sections 4.2 and 4.4), on the HPKE (RFC 9180) of
// github.com/cloudflare/circl.
//
// The package encapsulates opaque byte strings: the caller encodes the HTTP
// request and response in Binary HTTP (RFC 9292) before encapsulation, and
// decodes them after. The HPKE info and exporter context are those of RFC 9458
// for Binary HTTP ("message/bhttp request", "message/bhttp response").
//
// One HPKE suite is supported, the one of the RFC's example: KEM
// DHKEM(X25519, HKDF-SHA256) (0x0020), KDF HKDF-SHA256 (0x0001) and AEAD
// AES-128-GCM (0x0001). Keys made here (GenerateGatewayKey, NewGatewayKey)
// advertise only that suite. ParseKeyConfig and ParseKeyConfigs read key
// configurations of any KEM whose public key length is known (those of
// circl's hpke package) listing any symmetric suites (ParseKeyConfigs skips a
// configuration of an unknown KEM, which its length prefix delimits, and
// refuses the whole collection for any encoding error); NewClient accepts a
// configuration only if it has the supported KEM and lists the supported
// symmetric suite, which it then uses.
//
// The roles: a Gateway holds GatewayKeys and decapsulates Encapsulated
// Requests (Gateway.DecapsulateRequest), answering each through the
// ResponseContext it returns (ResponseContext.EncapsulateResponse). A Client
// encapsulates requests to one key configuration (Client.EncapsulateRequest)
// and opens the response through the ClientContext it returns
// (ClientContext.DecapsulateResponse). Each ResponseContext and ClientContext
// serves exactly one response. Gateways and Clients are safe for concurrent
// use; Gateway.SetKeys replaces a gateway's keys atomically.
//
// Every error wraps ErrMalformed, ErrUnknownKey, ErrUnsupported, ErrDecrypt or
// ErrContextUsed (but for a read error of the reader given to
// GenerateGatewayKey). Errors name what was wrong with a message, never its
// content.
package ohttp
