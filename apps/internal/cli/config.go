package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// ConfigDir is the client's own configuration directory: the keys of its remote
// vaults (vault-keys.json), the gateway key configurations it trusts for
// --relay (ohttp-keys.json) and a random id of this machine (host-id). Mode
// 0700, files 0600.
type ConfigDir struct {
	Dir string
}

// DefaultConfigDir is $AEGIS_CONFIG_DIR, else the user configuration directory's
// "aegis" (for example ~/.config/aegis).
func DefaultConfigDir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (set %s): %w", EnvConfigDir, err)
	}
	return filepath.Join(d, "aegis"), nil
}

// VaultKeyPrefix starts the exported form of a vault key.
const VaultKeyPrefix = "aegis-vault-key-1:"

// vaultKeySize is the size of a new vault key (the vault's Config.Locator).
const vaultKeySize = 32

type vaultKeyFile struct {
	Keys []vaultKeyEntry `json:"keys"`
}

type vaultKeyEntry struct {
	Server string `json:"server"`
	Name   string `json:"name"`
	Key    string `json:"key"` // base64url, unpadded
}

const vaultKeysFile = "vault-keys.json"

func (c ConfigDir) readKeys() (*vaultKeyFile, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, vaultKeysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &vaultKeyFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f vaultKeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is damaged: %v", filepath.Join(c.Dir, vaultKeysFile), err)
	}
	return &f, nil
}

// VaultKey returns the key of vault name at server, or an error wrapping
// domain.ErrNotFound.
func (c ConfigDir) VaultKey(server, name string) ([]byte, error) {
	f, err := c.readKeys()
	if err != nil {
		return nil, err
	}
	for _, e := range f.Keys {
		if e.Server == server && e.Name == name {
			k, err := base64.RawURLEncoding.DecodeString(e.Key)
			if err != nil || len(k) < vault.MinLocatorSize {
				return nil, fmt.Errorf("the key of vault %q at %s in %s is damaged", name, server, c.Dir)
			}
			return k, nil
		}
	}
	return nil, domain.ErrNotFound
}

// SaveVaultKey records the key of vault name at server, replacing none: a key
// already recorded for them must be the same.
func (c ConfigDir) SaveVaultKey(server, name string, key []byte) error {
	f, err := c.readKeys()
	if err != nil {
		return err
	}
	enc := base64.RawURLEncoding.EncodeToString(key)
	for _, e := range f.Keys {
		if e.Server == server && e.Name == name {
			if e.Key == enc {
				return nil
			}
			return usageErrorf("%s already holds another key for vault %q at %s; remove it there first if the vault is gone", filepath.Join(c.Dir, vaultKeysFile), name, server)
		}
	}
	f.Keys = append(f.Keys, vaultKeyEntry{Server: server, Name: name, Key: enc})
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return c.writeFile(vaultKeysFile, append(b, '\n'))
}

// writeFile replaces name in the directory atomically and durably.
func (c ConfigDir) writeFile(name string, data []byte) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.Dir, name))
	}
	if err == nil {
		if d, derr := os.Open(c.Dir); derr == nil {
			err = d.Sync()
			_ = d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	return nil
}

var _ httpblob.KeyTrust = ConfigDir{}

// relayKeysFile records, per gateway (the --remote URL), the key
// configurations of its Oblivious HTTP gateway this client trusts.
const relayKeysFile = "ohttp-keys.json"

type relayKeysDoc struct {
	Gateways []relayKeysEntry `json:"gateways"`
}

type relayKeysEntry struct {
	Gateway string   `json:"gateway"`
	Keys    []string `json:"keys"` // RFC 9458 key configurations, base64url, unpadded
}

func (c ConfigDir) readRelayKeys() (*relayKeysDoc, error) {
	path := filepath.Join(c.Dir, relayKeysFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &relayKeysDoc{}, nil
	}
	if err != nil {
		return nil, err
	}
	var d relayKeysDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s is damaged: %v", path, err)
	}
	return &d, nil
}

// TrustedKeys implements httpblob.KeyTrust: the gateway key configurations
// recorded for gateway in ohttp-keys.json.
func (c ConfigDir) TrustedKeys(gateway string) ([][]byte, error) {
	d, err := c.readRelayKeys()
	if err != nil {
		return nil, err
	}
	for _, e := range d.Gateways {
		if e.Gateway != gateway {
			continue
		}
		var out [][]byte
		for _, k := range e.Keys {
			b, err := base64.RawURLEncoding.DecodeString(k)
			if err != nil {
				return nil, fmt.Errorf("a key of %s in %s is damaged", gateway, filepath.Join(c.Dir, relayKeysFile))
			}
			out = append(out, b)
		}
		return out, nil
	}
	return nil, nil
}

// TrustKeys implements httpblob.KeyTrust: it replaces the configurations
// recorded for gateway.
func (c ConfigDir) TrustKeys(gateway string, configs [][]byte) error {
	d, err := c.readRelayKeys()
	if err != nil {
		return err
	}
	e := relayKeysEntry{Gateway: gateway, Keys: []string{}}
	for _, k := range configs {
		e.Keys = append(e.Keys, base64.RawURLEncoding.EncodeToString(k))
	}
	found := false
	for i := range d.Gateways {
		if d.Gateways[i].Gateway == gateway {
			d.Gateways[i], found = e, true
		}
	}
	if !found {
		d.Gateways = append(d.Gateways, e)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return c.writeFile(relayKeysFile, append(b, '\n'))
}

// NewVaultKey returns a fresh random vault key.
func NewVaultKey() []byte {
	k := make([]byte, vaultKeySize)
	_, _ = rand.Read(k)
	return k
}

// FormatVaultKey is the exported form of key.
func FormatVaultKey(key []byte) string {
	return VaultKeyPrefix + base64.RawURLEncoding.EncodeToString(key)
}

// ParseVaultKey reads the exported form of a vault key.
func ParseVaultKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, VaultKeyPrefix)
	k, err := base64.RawURLEncoding.DecodeString(rest)
	if !ok || err != nil || len(k) < vault.MinLocatorSize || len(k) > 64 {
		return nil, usageErrorf("not a vault key: it starts with %q, then %d to 64 bytes in unpadded base64url", VaultKeyPrefix, vault.MinLocatorSize)
	}
	return k, nil
}

const hostIDFile = "host-id"

// HostID returns this machine's random id, creating it on first use.
func (c ConfigDir) HostID() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, hostIDFile))
	if err == nil {
		id := strings.TrimSpace(string(b))
		if _, derr := hex.DecodeString(id); derr == nil && len(id) == 32 {
			return id, nil
		}
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	if err := c.writeFile(hostIDFile, []byte(id+"\n")); err != nil {
		return "", err
	}
	return id, nil
}

// Holder names this process in the intents of its writes: "<host id>:<pid>".
func Holder(hostID string) string { return hostID + ":" + strconv.Itoa(os.Getpid()) }

// HolderGone reports whether holder is a process of this machine that no longer
// runs. A holder of another machine is never taken for gone: its intents become
// stale by age.
func HolderGone(hostID string) func(string) bool {
	return func(holder string) bool {
		host, pidText, ok := strings.Cut(holder, ":")
		if !ok || host != hostID {
			return false
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			return false
		}
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
}

// remote returns the --remote back end of a vault-key command.
func (a *app) remote(cmd *ucli.Command, what string) (*Remote, error) {
	if cmd.String("remote") == "" {
		return nil, usageErrorf("%s: a vault key belongs to a vault on a server: give --remote URL", what)
	}
	b, err := a.backend(cmd)
	if err != nil {
		return nil, err
	}
	return b.(*Remote), nil
}

func (a *app) cmdVaultKeyExport(_ context.Context, cmd *ucli.Command) error {
	if _, err := args(cmd, 0, 0); err != nil {
		return err
	}
	r, err := a.remote(cmd, "vault-key export")
	if err != nil {
		return err
	}
	k, err := r.VaultKey(false)
	if err != nil {
		return wrapErr("vault-key export", err)
	}
	w := a.out()
	fmt.Fprintln(w, FormatVaultKey(k))
	return w.Flush()
}

func (a *app) cmdVaultKeyImport(_ context.Context, cmd *ucli.Command) error {
	rest, err := args(cmd, 0, 1)
	if err != nil {
		return err
	}
	r, err := a.remote(cmd, "vault-key import")
	if err != nil {
		return err
	}
	var text string
	if len(rest) == 0 || rest[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(a.stdin, 4096))
		if err != nil {
			return wrapErr("vault-key import", err)
		}
		text = string(b)
	} else {
		text = rest[0]
	}
	k, err := ParseVaultKey(text)
	if err != nil {
		return err
	}
	if err := r.Config.SaveVaultKey(r.URL, r.Name, k); err != nil {
		return wrapErr("vault-key import", err)
	}
	fmt.Fprintf(a.stderr, "recorded the key of vault %q at %s in %s\n", r.Name, r.URL, r.Config.Dir)
	return nil
}
