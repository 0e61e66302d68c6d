package aegisd

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ai-pantheon/aegis/adapters/ohttpkeys"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/domain"
)

// GatewayKeyDir is the subdirectory of the issuer key directory that holds
// the OHTTP gateway keys (package ohttpkeys).
const GatewayKeyDir = "ohttp"

// GatewayKeys are the Oblivious HTTP gateway's keys, kept and rotated as the
// issuer's (ProvideIssuerKeys): generated on first start; with a key
// lifetime, a key past half its lifetime gets a successor published
// KeyPublishDelay ahead of use, a key past its lifetime is replaced at once
// and removed, and the gateway holds every stored key within its lifetime
// (Reload, at start and every KeyReloadInterval). A nil *GatewayKeys, or one
// with a nil Gateway, is a disabled gateway.
type GatewayKeys struct {
	// Gateway opens encapsulated requests with the keys; nil when disabled.
	Gateway *ohttp.Gateway
	// Lifetime is Options.KeyLifetime (0: keys without end).
	Lifetime time.Duration

	store   *ohttpkeys.Store
	configs atomic.Pointer[[]*ohttp.KeyConfig]
}

// ProvideGatewayKeys opens the gateway key directory (IssuerDir/ohttp, made
// 0700 if missing), rotates as the key lifetime asks and loads the keys. The
// IssuerKeys argument orders it after their checks of the options.
func ProvideGatewayKeys(o Options, ik IssuerKeys) (*GatewayKeys, error) {
	g := &GatewayKeys{Lifetime: ik.Lifetime}
	if o.DisableOHTTP {
		return g, nil
	}
	st, err := ohttpkeys.Open(filepath.Join(o.IssuerDir, GatewayKeyDir), &ohttpkeys.Options{Create: true})
	if err != nil {
		return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
	}
	g.store = st
	now := time.Now()
	cur, err := st.Current()
	if err != nil {
		return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
	}
	if g.Lifetime > 0 {
		keys, err := st.Keys()
		if err != nil {
			return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
		}
		waiting := false
		for _, k := range keys {
			waiting = waiting || k.NotBefore.After(now)
		}
		switch age := now.Sub(cur.NotBefore); {
		case age >= g.Lifetime-KeyPublishDelay:
			if cur, err = st.Rotate(now); err != nil {
				return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
			}
		case age >= g.Lifetime/2 && !waiting:
			if _, err = st.Rotate(now.Add(KeyPublishDelay)); err != nil {
				return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
			}
		}
		// Keys past their lifetime: no gateway accepts them, so no client
		// can use them; removing them frees their key ids.
		for _, k := range keys {
			if k.KeyID() != cur.KeyID() && !now.Before(k.NotBefore.Add(g.Lifetime)) {
				if err := st.Retire(k.KeyID()); err != nil {
					return nil, fmt.Errorf("aegisd: OHTTP gateway keys: %w", err)
				}
			}
		}
	}
	g.Gateway = ohttp.NewGateway()
	if err := g.Reload(now); err != nil {
		return nil, err
	}
	if len(g.Configs()) == 0 {
		return nil, fmt.Errorf("aegisd: OHTTP gateway keys in %s: none within its lifetime: %w", st.Dir(), domain.ErrInvalidInput)
	}
	return g, nil
}

// live reports whether k is within its lifetime at now.
func (g *GatewayKeys) live(k *ohttpkeys.Key, now time.Time) bool {
	return g.Lifetime <= 0 || now.Before(k.NotBefore.Add(g.Lifetime))
}

// Reload reads the key directory and gives the gateway every key within its
// lifetime at now (keys other replicas added, without those that expired).
func (g *GatewayKeys) Reload(now time.Time) error {
	if g == nil || g.store == nil {
		return nil
	}
	keys, err := g.store.Keys()
	if err != nil {
		return err
	}
	var held []*ohttp.GatewayKey
	var inForce, future []*ohttp.KeyConfig
	for _, k := range keys { // newest first
		if !g.live(k, now) {
			continue
		}
		held = append(held, k.GatewayKey)
		if k.NotBefore.After(now) {
			future = append(future, k.Config())
		} else {
			inForce = append(inForce, k.Config())
		}
	}
	slices.Reverse(future) // soonest first
	g.Gateway.SetKeys(held...)
	cfgs := append(inForce, future...)
	g.configs.Store(&cfgs)
	return nil
}

// Configs returns the key configurations the gateway publishes: the keys in
// force, newest (preferred) first, then announced ones, soonest first.
func (g *GatewayKeys) Configs() []*ohttp.KeyConfig {
	if g == nil {
		return nil
	}
	if p := g.configs.Load(); p != nil {
		return *p
	}
	return nil
}

// MaxAge is the Cache-Control max-age of the key configurations: an hour, or
// a quarter of the key lifetime if that is shorter, so that a cached list
// never outlives its keys.
func (g *GatewayKeys) MaxAge() time.Duration {
	if g == nil || g.Lifetime <= 0 {
		return time.Hour
	}
	return min(time.Hour, g.Lifetime/4).Truncate(time.Second)
}

// Describe lists the published key configurations as "id N sha256:HEX", the
// digest of each configuration's encoding (what `aegis --relay-key-sha256`
// pins).
func (g *GatewayKeys) Describe() string {
	var parts []string
	for _, c := range g.Configs() {
		b, err := c.MarshalBinary()
		if err != nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("id %d sha256:%x", c.KeyID, sha256.Sum256(b)))
	}
	return strings.Join(parts, ", ")
}
