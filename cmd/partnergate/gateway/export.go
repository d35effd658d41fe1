package gateway

import (
	"context"
	"net/http"

	"github.com/redis/go-redis/v9"

	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/activity"
	"partnergate/core/backup"
	"partnergate/core/events"
	"partnergate/core/geo"
	"partnergate/core/keyring"
	"partnergate/core/tokens"
	"partnergate/rpc"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
	"partnergate/store/usercache"
)

// What Open built, for the administrative commands and the end-to-end
// tests that inspect or adjust state behind the transport. Accessors rather
// than exported fields keep serve.go's wiring as it was.

// Store is the SQL store, after Open or OpenStore.
func (m *Main) Store() store.Store { return m.store }

// DB is the SQL store without the user-copy wrapper: for migrations, the
// dialect and closing, never for writes a session check must see.
func (m *Main) DB() *sqlstore.Store { return m.db }

// CacheUsersIn routes every later write of Store through the user-copy
// cache in k, as the servers' writes are, so an admin command clears the
// copy a running server's session checks read.
func (m *Main) CacheUsersIn(k *kv.KV) { m.store = usercache.New(m.db, k, 0) }

// Redis is the Redis client, after Open.
func (m *Main) Redis() redis.UniversalClient { return m.redis }

// Ring holds the keys, after Open or OpenStore.
func (m *Main) Ring() *keyring.Ring { return m.ring }

// Accounts is the account core the methods call, after Open.
func (m *Main) Accounts() *accounts.Service { return m.accounts }

// Server is the HTTP server, after Open; its Handler is the mux.
func (m *Main) Server() *http.Server { return m.server }

// OpenStore opens what the administrative commands need: the keys and the
// migrated SQL store, not Redis, so they work beside running servers in
// embedded mode. Close releases them.
func (m *Main) OpenStore(ctx context.Context) error {
	if err := m.openRing(); err != nil {
		return err
	}
	return m.openStore(ctx)
}

// RegisterUserData is registerUserData, for tests that wire seed 000's
// user-data services with a notifier of their own.
func RegisterUserData(ctx context.Context, m *Main, reg *rpc.Registry, mux *http.ServeMux,
	bus *events.Bus, notify backup.Notifier, publicURL string, sources ...backup.Source) error {
	return registerUserData(ctx, m, reg, mux, bus, notify, publicURL, sources...)
}

// Tokens is the access-JWT service, after Open.
func (m *Main) Tokens() *tokens.Service { return m.tokens }

// Activity is the activity trail, after Open.
func (m *Main) Activity() *activity.Recorder { return m.activity }

// Geo is the IP database, after Open; nil when PARTNERGATE_GEOIP_DB is unset.
func (m *Main) Geo() *geo.DB { return m.geo }

// Policy is the access table (roles, permission rows, restrictions).
func (m *Main) Policy() *access.Policy { return m.policy }
