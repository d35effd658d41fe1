package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"partnergate/core/backup"
	"partnergate/core/events"
	"partnergate/core/products"
	"partnergate/core/tracking"
	"partnergate/methods/user"
	"partnergate/rpc"
)

// registerUserData builds seed 000's user-data services on m's stores
// (user.products.*, user.tracking.set, user.data.backup, user.auth.block,
// user.auth.websocket), registers them on reg, and mounts GET /ws and
// GET /backup/{token} on mux. Call it after Open has set m.store and
// m.redis, before rpc.NewDiscovery.
//
// bus carries account events to the sockets (nil: a new one on m.redis);
// it stops, and every socket closes, when ctx ends. notify delivers backup
// links. publicURL is the base of those links, e.g. https://id.example.com;
// "" uses http:// and the bound listen address, which only suits local and
// dev use. sources add files (settings, activity) to every backup.
func registerUserData(ctx context.Context, m *Main, reg *rpc.Registry, mux *http.ServeMux,
	bus *events.Bus, notify backup.Notifier, publicURL string, sources ...backup.Source) error {
	if notify == nil {
		return errors.New("user data: a backup.Notifier is required to deliver backup links")
	}
	if bus == nil {
		bus = events.New(m.redis, events.WithPrefix(m.Config.RedisPrefix))
	}
	context.AfterFunc(ctx, func() { _ = bus.Close() })
	kvs := m.kv()
	base := func() string {
		if publicURL != "" {
			return strings.TrimRight(publicURL, "/")
		}
		if m.ln == nil {
			return ""
		}
		return "http://" + m.Addr()
	}
	hub := &events.Hub{
		Bus: bus, KV: kvs, Base: ctx, Log: m.Log,
		SessionAlive: func(ctx context.Context, userID, sessionHash string) (bool, error) {
			// UserSessions reads without sliding the idle timeout: an open
			// socket must not keep a session alive.
			ss, err := kvs.UserSessions(ctx, userID)
			if err != nil {
				return false, err
			}
			for _, s := range ss {
				if s.TokenHash == sessionHash {
					return true, nil
				}
			}
			return false, nil
		},
	}
	backups := &backup.Service{Store: m.store, Notify: notify, KV: kvs, BaseURL: base, Sources: sources, Log: m.Log}
	services := []interface{ Methods() []rpc.Method }{
		&user.Products{Products: &products.Service{Store: m.store, Log: m.Log}},
		&user.Tracking{Tracking: &tracking.Service{Store: m.store, Log: m.Log}},
		&user.Data{Backups: backups},
		&user.Blocks{Store: m.store, Log: m.Log},
		&user.Socket{Hub: hub},
	}
	for _, s := range services {
		if err := reg.Register(s, s.Methods()...); err != nil {
			return err
		}
	}
	mux.Handle("GET /ws", hub)
	mux.Handle("GET /backup/{token}", backups)
	return nil
}
