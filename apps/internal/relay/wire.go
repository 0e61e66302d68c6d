//go:build wireinject

package relay

import "github.com/google/wire"

// Initialize assembles an aegis-relay from its options.
func Initialize(o Options) (*App, error) {
	wire.Build(ProviderSet)
	return nil, nil
}
