module github.com/ai-pantheon/aegis/benchmarks

go 1.26.8

require (
	github.com/ai-pantheon/aegis/adapters v0.2.0
	github.com/ai-pantheon/aegis/anonymize v0.2.0
	github.com/ai-pantheon/aegis/crypto v0.2.0
	github.com/ai-pantheon/aegis/domain v0.2.0
)

require (
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
