module github.com/ai-pantheon/aegis/crypto

go 1.26.8

require github.com/ai-pantheon/aegis/domain v0.2.0

require (
	github.com/bwesterb/go-ristretto v1.2.4 // indirect
	github.com/cloudflare/circl v1.6.5
)

require (
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0 // indirect
)
