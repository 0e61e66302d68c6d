//go:build wireinject

package cli

import "github.com/google/wire"

// Initialize assembles the back end of the global flags.
func Initialize(o Options) (Backend, error) {
	wire.Build(ProviderSet)
	return nil, nil
}
