package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/rpc"
	"partnergate/store"
)

// MemberRole is the role of a user whose role is empty.
const MemberRole = "member"

// PollEvery is how often a gateway reads the access table's version from
// Redis; a change made on any gateway is in force everywhere within about
// that (and within 5 s in any case).
const PollEvery = time.Second

// reloadEvery bounds how long a lost version bump (Redis down while a row
// was written) can keep a gateway on an old table.
const reloadEvery = 30 * time.Second

// Policy is this gateway's copy of the roles, permissions and restrictions:
// the gate reads it from memory on every call, and Run reloads it from the
// SQL store whenever the version in Redis moves. Its methods that change a
// row write the store, move the version and reload at once, so the
// gateway that made a change sees it on the next call and the others
// within PollEvery.
type Policy struct {
	Store store.Access
	KV    store.AccessVersions
	// Methods lists the registered methods, whose decisions are compiled
	// at each load; a method it does not list is decided row by row.
	Methods func() []*rpc.Method
	// Geo places addresses for country and continent restrictions; nil
	// refuses those restrictions at creation.
	Geo      *geo.DB
	Activity *activity.Recorder
	Log      zerolog.Logger

	mu  sync.Mutex // serialises loads
	cur atomic.Pointer[table]
}

// decision is what the rows of one role say of one method.
type decision struct {
	allow, audit bool
	topic        string
}

// table is one load of the access rows, compiled.
type table struct {
	version   int64
	loaded    time.Time
	ranks     map[string]int
	rules     map[string][]rule              // by role
	decisions map[string]map[string]decision // role → method → decision
	restr     restrictions
}

func (t *table) decide(role string, m *rpc.Method) decision {
	if d, ok := t.decisions[role][m.Name]; ok {
		return d
	}
	return decideRules(t.rules[role], RoutesOf(m))
}

func decideRules(rules []rule, routes []Route) decision {
	var accept, drop bool
	var d decision
	for _, r := range rules {
		hit := false
		for _, rt := range routes {
			if r.matches(rt) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		switch r.action {
		case store.ActionAccept:
			accept = true
		case store.ActionDrop:
			drop = true
		case store.ActionAudit:
			if !d.audit {
				d.audit, d.topic = true, r.topic
			}
		}
	}
	d.allow = accept && !drop
	return d
}

// Load reads the rows and compiles them, whatever the version says.
func (p *Policy) Load(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.load(ctx)
}

func (p *Policy) load(ctx context.Context) error {
	var v int64
	if p.KV != nil {
		var err error
		if v, err = p.KV.AccessVersion(ctx); err != nil {
			return core.StoreError("access: version", err)
		}
	}
	roles, err := p.Store.Roles(ctx)
	if err != nil {
		return core.StoreError("access: roles", err)
	}
	perms, err := p.Store.Permissions(ctx)
	if err != nil {
		return core.StoreError("access: permissions", err)
	}
	rs, err := p.Store.Restrictions(ctx)
	if err != nil {
		return core.StoreError("access: restrictions", err)
	}
	t := &table{version: v, loaded: time.Now(), ranks: map[string]int{}, rules: map[string][]rule{},
		decisions: map[string]map[string]decision{}, restr: compileRestrictions(rs)}
	for _, r := range roles {
		t.ranks[r.Name] = r.Rank
	}
	for _, pr := range perms {
		t.rules[pr.Role] = append(t.rules[pr.Role], rule{verb: pr.Verb, path: dotted(pr.Path), action: pr.Action, topic: pr.Topic})
	}
	if p.Methods != nil {
		ms := p.Methods()
		for role, rules := range t.rules {
			ds := make(map[string]decision, len(ms))
			for _, m := range ms {
				ds[m.Name] = decideRules(rules, RoutesOf(m))
			}
			t.decisions[role] = ds
		}
	}
	p.cur.Store(t)
	return nil
}

// Sync reloads when the version in Redis moved, or the table is older
// than reloadEvery.
func (p *Policy) Sync(ctx context.Context) error {
	t := p.cur.Load()
	if t != nil && p.KV != nil && time.Since(t.loaded) < reloadEvery {
		v, err := p.KV.AccessVersion(ctx)
		if err != nil {
			return core.StoreError("access: version", err)
		}
		if v == t.version {
			return nil
		}
	}
	return p.Load(ctx)
}

// Run keeps the table current until ctx ends.
func (p *Policy) Run(ctx context.Context) {
	tk := time.NewTicker(PollEvery)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := p.Sync(ctx); err != nil && ctx.Err() == nil {
				p.Log.Warn().Err(err).Msg("access table not reloaded; keeping the last one")
			}
		}
	}
}

// changed moves the version on and reloads this gateway's copy. The row is
// written already: a failure here is logged, and the periodic reload
// catches up.
func (p *Policy) changed(ctx context.Context) {
	if p.KV != nil {
		if _, err := p.KV.BumpAccessVersion(ctx); err != nil {
			p.Log.Warn().Err(err).Msg("access version not moved; other gateways reload within 30 s")
		}
	}
	if err := p.Load(ctx); err != nil {
		p.Log.Warn().Err(err).Msg("access table not reloaded after a change")
	}
}

func (p *Policy) table() *table {
	if t := p.cur.Load(); t != nil {
		return t
	}
	return &table{}
}

// Allows reports whether role (empty is member) may call m by the rows.
func (p *Policy) Allows(role string, m *rpc.Method) bool {
	if role == "" {
		role = MemberRole
	}
	return p.table().decide(role, m).allow
}

// Rank is role's rank and whether the role exists (empty is member).
func (p *Policy) Rank(role string) (int, bool) {
	if role == "" {
		role = MemberRole
	}
	r, ok := p.table().ranks[role]
	return r, ok
}

// Restricted applies the restrictions to a call of m from ip.
func (p *Policy) Restricted(m *rpc.Method, ip string) error {
	t := p.table()
	if t.restr.empty() {
		return nil
	}
	w := where{geo: p.Geo}
	if a, err := netip.ParseAddr(ip); err == nil {
		w.addr = a.Unmap()
	}
	return t.restr.check(&w, m.OpensSession)
}

// Audit records, in the admin trail, an admitted call the caller's role
// AUDITs, and every admin call by a partner key. It is the transport's
// Audit hook.
func (p *Policy) Audit(ctx context.Context, m *rpc.Method, c *rpc.Caller, params []byte, code int) {
	var topic string
	switch {
	case c.Kind == rpc.CallerPartner && m.Access == rpc.AdminPermission:
		topic = "admin"
	case c.Kind == rpc.CallerUser:
		role := c.Role
		if role == "" {
			role = MemberRole
		}
		d := p.table().decide(role, m)
		if !d.audit {
			return
		}
		topic = d.topic
	default:
		return
	}
	if topic == "" {
		topic, _, _ = strings.Cut(m.Name, ".")
	}
	p.record(ctx, c, m, topic, params, code)
}

func (p *Policy) record(ctx context.Context, c *rpc.Caller, m *rpc.Method, topic string, params []byte, code int) {
	if p.Activity == nil {
		return
	}
	result := store.ResultSucceed
	switch {
	case code == int(fault.Forbidden) || code == int(fault.TwoFactorRequired):
		result = store.ResultDenied
	case code != 0:
		result = store.ResultFailed
	}
	data := map[string]any{"method": m.Name, "code": code}
	if len(params) > 0 {
		data["params"] = json.RawMessage(activity.ScrubJSON(params))
	}
	uid := ""
	if c.Kind == rpc.CallerUser {
		uid = c.UserID
	}
	p.Activity.Note(ctx, activity.Entry{UserID: uid, Category: store.CategoryAdmin, Topic: topic, Action: m.Name,
		Result: result, Data: data})
}

// --- rows, as admin.permissions.* and admin.restrictions.* change them ---

// Permissions lists every permission row.
func (p *Policy) Permissions(ctx context.Context) ([]store.Permission, error) {
	out, err := p.Store.Permissions(ctx)
	if err != nil {
		return nil, core.StoreError("access: permissions", err)
	}
	return out, nil
}

// permissionErr maps the store's refusals of a permission row.
func permissionErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound)
	case errors.Is(err, store.ErrAlreadyExists):
		return fault.New(fault.AlreadyExists)
	}
	return core.StoreError(op, err)
}

func (p *Policy) checkRole(role string) error {
	if _, ok := p.table().ranks[role]; !ok {
		return fault.New(fault.RoleUnknown)
	}
	return nil
}

// CreatePermission validates and stores a row.
func (p *Policy) CreatePermission(ctx context.Context, in store.Permission) (store.Permission, error) {
	in, err := CheckPermission(in)
	if err != nil {
		return store.Permission{}, err
	}
	if err := p.checkRole(in.Role); err != nil {
		return store.Permission{}, err
	}
	out, err := p.Store.CreatePermission(ctx, in)
	if errors.Is(err, store.ErrNotFound) {
		return store.Permission{}, fault.New(fault.RoleUnknown)
	}
	if err != nil {
		return store.Permission{}, permissionErr("access: create permission", err)
	}
	p.changed(ctx)
	return out, nil
}

// UpdatePermission applies fn's changes to row id, validated as at creation.
func (p *Policy) UpdatePermission(ctx context.Context, id int64, fn func(store.Permission) store.Permission) (store.Permission, error) {
	out, err := p.Store.UpdatePermission(ctx, id, func(old store.Permission) (store.Permission, error) {
		nu, err := CheckPermission(fn(old))
		if err != nil {
			return nu, err
		}
		return nu, p.checkRole(nu.Role)
	})
	if _, coded := fault.As(err); coded {
		return store.Permission{}, err
	}
	if err != nil {
		return store.Permission{}, permissionErr("access: update permission", err)
	}
	p.changed(ctx)
	return out, nil
}

// DeletePermission removes row id.
func (p *Policy) DeletePermission(ctx context.Context, id int64) error {
	if err := p.Store.DeletePermission(ctx, id); err != nil {
		return permissionErr("access: delete permission", err)
	}
	p.changed(ctx)
	return nil
}

// Restrictions lists every restriction.
func (p *Policy) Restrictions(ctx context.Context) ([]store.Restriction, error) {
	out, err := p.Store.Restrictions(ctx)
	if err != nil {
		return nil, core.StoreError("access: restrictions", err)
	}
	return out, nil
}

// lockout refuses a set of restrictions that would refuse the admin making
// the change: rows is the whole set as it would be, ip the admin's address.
func (p *Policy) lockout(rows []store.Restriction, ip string) error {
	rs := compileRestrictions(rows)
	w := where{geo: p.Geo}
	if a, err := netip.ParseAddr(ip); err == nil {
		w.addr = a.Unmap()
	}
	if err := rs.check(&w, false); err != nil {
		return fault.New(fault.RestrictionLocksOut)
	}
	return nil
}

// withChange is the current set with r in place of the row of its id
// (appended when new; left out when drop).
func (p *Policy) withChange(ctx context.Context, r store.Restriction, drop bool) ([]store.Restriction, error) {
	rows, err := p.Restrictions(ctx)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, x := range rows {
		if x.ID != r.ID || r.ID == 0 {
			out = append(out, x)
		}
	}
	if !drop {
		out = append(out, r)
	}
	return out, nil
}

// CreateRestriction validates and stores a restriction; one that would
// refuse the calling admin is refused (RestrictionLocksOut).
func (p *Policy) CreateRestriction(ctx context.Context, in store.Restriction) (store.Restriction, error) {
	in, err := CheckRestriction(in, p.Geo != nil)
	if err != nil {
		return store.Restriction{}, err
	}
	rows, err := p.withChange(ctx, in, false)
	if err != nil {
		return store.Restriction{}, err
	}
	if err := p.lockout(rows, core.CallFrom(ctx).IP); err != nil {
		return store.Restriction{}, err
	}
	out, err := p.Store.CreateRestriction(ctx, in)
	if err != nil {
		return store.Restriction{}, permissionErr("access: create restriction", err)
	}
	p.changed(ctx)
	return out, nil
}

// UpdateRestriction applies fn's changes to restriction id, validated and
// checked for lock-out as at creation.
func (p *Policy) UpdateRestriction(ctx context.Context, id int64, fn func(store.Restriction) store.Restriction) (store.Restriction, error) {
	ip := core.CallFrom(ctx).IP
	out, err := p.Store.UpdateRestriction(ctx, id, func(old store.Restriction) (store.Restriction, error) {
		nu, err := CheckRestriction(fn(old), p.Geo != nil)
		if err != nil {
			return nu, err
		}
		nu.ID = id
		rows, err := p.withChange(ctx, nu, false)
		if err != nil {
			return nu, err
		}
		return nu, p.lockout(rows, ip)
	})
	if _, coded := fault.As(err); coded {
		return store.Restriction{}, err
	}
	if err != nil {
		return store.Restriction{}, permissionErr("access: update restriction", err)
	}
	p.changed(ctx)
	return out, nil
}

// DeleteRestriction removes restriction id, unless without it the calling
// admin would be refused (a whitelist that lets it through maintenance).
func (p *Policy) DeleteRestriction(ctx context.Context, id int64) error {
	rows, err := p.withChange(ctx, store.Restriction{ID: id}, true)
	if err != nil {
		return err
	}
	if err := p.lockout(rows, core.CallFrom(ctx).IP); err != nil {
		return err
	}
	if err := p.Store.DeleteRestriction(ctx, id); err != nil {
		return permissionErr("access: delete restriction", err)
	}
	p.changed(ctx)
	return nil
}

// String describes the table for logs.
func (p *Policy) String() string {
	t := p.table()
	n := 0
	for _, rs := range t.rules {
		n += len(rs)
	}
	return fmt.Sprintf("access table v%d: %d roles, %d permission rows", t.version, len(t.ranks), n)
}
