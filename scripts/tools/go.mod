// Pinned developer tools, outside go.work on purpose (scripts/lib.sh builds them with GOWORK=off into
// bin/tools): the Ginkgo CLI for `make test` and the wire command for `make lint-wire` / `make wire`.
// Bump with: cd scripts/tools && GOWORK=off go get -tool <pkg>@<version> && GOWORK=off go mod tidy
// `make lint-workspace` checks that the workspace uses the same Ginkgo and Wire library versions.
module github.com/ai-pantheon/aegis/scripts/tools

go 1.26.8

tool (
	github.com/google/wire/cmd/wire
	github.com/onsi/ginkgo/v2/ginkgo
)

require golang.org/x/mod v0.35.0

require (
	github.com/Masterminds/semver/v3 v3.4.0 // indirect
	github.com/go-task/slim-sprig/v3 v3.0.0 // indirect
	github.com/google/pprof v0.0.0-20260402051712-545e8a4df936 // indirect
	github.com/google/subcommands v1.2.0 // indirect
	github.com/google/wire v0.7.0 // indirect
	github.com/onsi/ginkgo/v2 v2.34.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/tools v0.44.0 // indirect
)
