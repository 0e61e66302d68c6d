//go:build wireinject

package aegisd

import "github.com/google/wire"

// Initialize assembles an aegisd from its options.
func Initialize(o Options) (*App, error) {
	wire.Build(ProviderSet)
	return nil, nil
}
