package store

import (
	"context"
	"time"
)

// Permission actions, verbs, restriction categories, scopes and states as
// the schema (0012_access) allows them.
const (
	ActionAccept = "ACCEPT"
	ActionDrop   = "DROP"
	ActionAudit  = "AUDIT"

	VerbAll = "ALL"

	RestrictWhitelist   = "whitelist"
	RestrictBlacklist   = "blacklist"
	RestrictMaintenance = "maintenance"
	RestrictBlockLogin  = "blocklogin"

	ScopeIP        = "ip"
	ScopeIPSubnet  = "ip_subnet"
	ScopeCountry   = "country"
	ScopeContinent = "continent"
	ScopeAll       = "all"

	RestrictionEnabled  = "enabled"
	RestrictionDisabled = "disabled"
)

// Role is one of the configurable roles. Rank orders them: a caller may
// give a role of its own rank or lower, never higher.
type Role struct {
	Name        string
	Rank        int
	Description string
}

// Permission is one of Barong's permission rows: for Role, calls matching
// Verb and Path (a REST route, "/admin/users", or "*") are ACCEPTed,
// DROPped or AUDITed (recorded under Topic).
type Permission struct {
	ID      int64
	Role    string
	Verb    string
	Path    string
	Action  string
	Topic   string
	Created time.Time
	Updated time.Time
}

// Restriction is one of Barong's restrictions: callers whose address (or
// its country or continent) matches Scope and Value are let through
// (whitelist), refused (blacklist, maintenance) or refused a new session
// (blocklogin), while State is enabled.
type Restriction struct {
	ID       int64
	Category string
	Scope    string
	Value    string
	Code     int
	State    string
	Created  time.Time
	Updated  time.Time
}

// Access keeps roles, permissions and restrictions. Gateways hold them in
// memory and reload them when the version in Redis moves (AccessVersions),
// so none of these is read per call.
type Access interface {
	// Roles lists every role, highest rank first.
	Roles(ctx context.Context) ([]Role, error)
	// Permissions lists every permission row, by id.
	Permissions(ctx context.Context) ([]Permission, error)
	// CreatePermission stores p (ID, Created and Updated are set) and
	// returns it. ErrNotFound when p.Role names no role; ErrAlreadyExists
	// when a row with the same role, verb, path and action exists; a plain
	// error when a value is one the schema refuses.
	CreatePermission(ctx context.Context, p Permission) (Permission, error)
	// UpdatePermission applies fn to the row inside one transaction and
	// writes Role, Verb, Path, Action and Topic as fn returned them. An
	// error from fn is returned unchanged. ErrNotFound (no row, or an
	// unknown role), ErrAlreadyExists as CreatePermission.
	UpdatePermission(ctx context.Context, id int64, fn func(p Permission) (Permission, error)) (Permission, error)
	// DeletePermission removes one row. ErrNotFound.
	DeletePermission(ctx context.Context, id int64) error

	// Restrictions lists every restriction, by id.
	Restrictions(ctx context.Context) ([]Restriction, error)
	// CreateRestriction stores r and returns it. ErrAlreadyExists when one
	// with the same category, scope and value exists.
	CreateRestriction(ctx context.Context, r Restriction) (Restriction, error)
	// UpdateRestriction is UpdatePermission for restrictions: Category,
	// Scope, Value, Code and State are written. ErrNotFound, ErrAlreadyExists.
	UpdateRestriction(ctx context.Context, id int64, fn func(r Restriction) (Restriction, error)) (Restriction, error)
	// DeleteRestriction removes one. ErrNotFound.
	DeleteRestriction(ctx context.Context, id int64) error
}
