// Package admin serves seed 002's (Barong's) admin.* namespace: users,
// roles, permissions, restrictions, levels, activities and metrics. Who may
// call each method is decided by core/access (the permission rows of the
// caller's role, restrictions, 2FA) before any of it runs, never here; this
// package translates Barong's names and shapes to core/admin and
// core/access.
package admin

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/activity"
	coreadmin "partnergate/core/admin"
	"partnergate/core/fault"
	"partnergate/methods/admin/adminwire"
	"partnergate/methods/barong"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the admin.* namespace.
type Service struct {
	Admin    *coreadmin.Service
	Policy   *access.Policy
	Activity *activity.Recorder
	Store    store.Store
}

func adm(name, goName, doc string, routes ...string) rpc.Method {
	return rpc.Method{Name: name, Go: goName, Access: rpc.AdminPermission, Permission: name, RateClass: "default",
		Doc: doc, Routes: routes}
}

// Methods declares the namespace for the registry. Routes are Barong's,
// which permission rows name.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		adm("admin.permissions.list", "PermissionsList", "Lists the permission rows (role, verb, path, action, topic), paged."),
		adm("admin.permissions.create", "PermissionsCreate", "Adds a permission row; in force on every gateway within seconds."),
		adm("admin.permissions.update", "PermissionsUpdate", "Changes a permission row by id."),
		adm("admin.permissions.delete", "PermissionsDelete", "Removes a permission row by id."),
		adm("admin.restrictions.list", "RestrictionsList", "Lists the restrictions (category, scope, value, state), paged, by scope or category."),
		adm("admin.restrictions.create", "RestrictionsCreate", "Adds a restriction (whitelist, blacklist, maintenance, blocklogin by ip, ip_subnet, country, continent or all); one locking the caller out is refused."),
		adm("admin.restrictions.update", "RestrictionsUpdate", "Changes a restriction by id."),
		adm("admin.restrictions.delete", "RestrictionsDelete", "Removes a restriction by id."),
		adm("admin.users.list", "UsersList", "Lists users with Barong's filters, newest first, by page or keyset cursor."),
		adm("admin.users.get", "UsersGet", "Returns a user by uid with profiles, labels and phones.", "GET /admin/users"),
		adm("admin.users.update", "UsersUpdate", "Sets a user's state (active, banned, locked, deleted: a ban ends every session) or turns 2FA off (otp false).",
			"PUT /admin/users", "POST /admin/users/update"),
		adm("admin.users.role", "UsersRole", "Sets a user's role (never above the caller's); ends the user's sessions.", "POST /admin/users/role"),
		adm("admin.users.labels.list", "LabelsList", "Lists the users having the label key = value, paged."),
		adm("admin.users.labels.create", "LabelsCreate", "Adds a label (key, value, scope public or private, description) to a user."),
		adm("admin.users.labels.update", "LabelsUpdate", "Changes an existing label's value and description."),
		adm("admin.users.labels.delete", "LabelsDelete", "Removes a user's label of key and scope."),
		adm("admin.users.labels.update_value", "LabelsUpdateValue", "Sets a label's value; with replace, creates it when missing.",
			"POST /admin/users/labels/update"),
		adm("admin.users.labels.keys", "LabelsKeys", "Returns every label key in use with its values.", "GET /admin/users/labels/list"),
		adm("admin.profiles.list", "ProfilesList", "Lists the users' KYC profiles, paged.", "GET /admin/profiles"),
		adm("admin.profiles.update", "ProfilesUpdate", "Changes a user's KYC profile; state verified or rejected also sets the user's private profile label.",
			"PUT /admin/profiles"),
		adm("admin.levels.list", "LevelsList", "Lists Barong's levels (email, phone, document verified).", "GET /admin/levels"),
		adm("admin.activities.list", "ActivitiesList", "Lists the users' activity trail with Barong's filters.", "GET /admin/activities"),
		adm("admin.activities.admin.list", "ActivitiesAdminList", "Lists the admins' activity trail with Barong's filters.", "GET /admin/activities/admin"),
		adm("admin.metrics", "Metrics", "Counts signups and successful and failed logins over a period, per day or hour.", "GET /admin/metrics"),
	}
}

var adminKeys = map[fault.Code]string{
	fault.NotFound:            "admin.record.doesnt_exist",
	fault.AlreadyExists:       "admin.record.already_exists",
	fault.RoleUnknown:         "admin.permission.role_doesnt_exist",
	fault.RoleAboveOwn:        "admin.user.role_above_own",
	fault.RestrictionInvalid:  "admin.restriction.invalid_value",
	fault.GeoUnavailable:      "admin.restriction.geoip_unavailable",
	fault.RestrictionLocksOut: "admin.restriction.locks_out",
}

func berr(err error) error { return barong.Err(err, adminKeys) }

// page turns Barong's page and limit into an offset, checking both.
func page(p, l int) (pg, limit, offset int, err error) {
	if p == 0 {
		p = 1
	}
	if l == 0 {
		l = coreadmin.DefaultLimit
	}
	if p < 1 || p > 100000 {
		return 0, 0, 0, fault.Field(fault.Invalid, "page", "1 to 100000")
	}
	if l < 1 || l > coreadmin.MaxLimit {
		return 0, 0, 0, fault.Field(fault.Invalid, "limit", "1 to 100")
	}
	return p, l, (p - 1) * l, nil
}

func window[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return []T{}
	}
	end := min(offset+limit, len(all))
	return all[offset:end]
}

func permissionOut(p store.Permission) adminwire.Permission {
	return adminwire.Permission{ID: p.ID, Role: p.Role, Verb: p.Verb, Path: p.Path, Action: p.Action, Topic: p.Topic,
		CreatedAt: p.Created, UpdatedAt: p.Updated}
}

// PermissionsList is admin.permissions.list.
func (s *Service) PermissionsList(r *http.Request, p *adminwire.PageParams, res *adminwire.PermissionList) error {
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	all, err := s.Policy.Permissions(r.Context())
	if err != nil {
		return err
	}
	res.Page, res.Limit, res.Total, res.Permissions = pg, limit, len(all), []adminwire.Permission{}
	for _, x := range window(all, off, limit) {
		res.Permissions = append(res.Permissions, permissionOut(x))
	}
	return nil
}

// PermissionsCreate is admin.permissions.create.
func (s *Service) PermissionsCreate(r *http.Request, p *adminwire.PermissionCreateParams, res *adminwire.Permission) error {
	out, err := s.Policy.CreatePermission(r.Context(), store.Permission{Role: p.Role, Verb: p.Verb, Path: p.Path, Action: p.Action, Topic: p.Topic})
	if err != nil {
		return berr(err)
	}
	*res = permissionOut(out)
	return nil
}

// PermissionsUpdate is admin.permissions.update.
func (s *Service) PermissionsUpdate(r *http.Request, p *adminwire.PermissionUpdateParams, res *adminwire.Permission) error {
	out, err := s.Policy.UpdatePermission(r.Context(), p.ID, func(x store.Permission) store.Permission {
		set(&x.Role, p.Role)
		set(&x.Verb, p.Verb)
		set(&x.Path, p.Path)
		set(&x.Action, p.Action)
		set(&x.Topic, p.Topic)
		return x
	})
	if err != nil {
		return berr(err)
	}
	*res = permissionOut(out)
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// PermissionsDelete is admin.permissions.delete.
func (s *Service) PermissionsDelete(r *http.Request, p *adminwire.IDParams, res *adminwire.Empty) error {
	return berr(s.Policy.DeletePermission(r.Context(), p.ID))
}

func restrictionOut(x store.Restriction) adminwire.Restriction {
	return adminwire.Restriction{ID: x.ID, Category: x.Category, Scope: x.Scope, Value: x.Value, Code: x.Code, State: x.State,
		CreatedAt: x.Created, UpdatedAt: x.Updated}
}

// RestrictionsList is admin.restrictions.list.
func (s *Service) RestrictionsList(r *http.Request, p *adminwire.RestrictionListParams, res *adminwire.RestrictionList) error {
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	all, err := s.Policy.Restrictions(r.Context())
	if err != nil {
		return err
	}
	var sel []store.Restriction
	for _, x := range all {
		if (p.Scope == "" || x.Scope == p.Scope) && (p.Category == "" || x.Category == p.Category) {
			sel = append(sel, x)
		}
	}
	res.Page, res.Limit, res.Total, res.Restrictions = pg, limit, len(sel), []adminwire.Restriction{}
	for _, x := range window(sel, off, limit) {
		res.Restrictions = append(res.Restrictions, restrictionOut(x))
	}
	return nil
}

// RestrictionsCreate is admin.restrictions.create.
func (s *Service) RestrictionsCreate(r *http.Request, p *adminwire.RestrictionCreateParams, res *adminwire.Restriction) error {
	out, err := s.Policy.CreateRestriction(r.Context(), store.Restriction{Category: p.Category, Scope: p.Scope, Value: p.Value, State: p.State, Code: p.Code})
	if err != nil {
		return berr(err)
	}
	*res = restrictionOut(out)
	return nil
}

// RestrictionsUpdate is admin.restrictions.update.
func (s *Service) RestrictionsUpdate(r *http.Request, p *adminwire.RestrictionUpdateParams, res *adminwire.Restriction) error {
	out, err := s.Policy.UpdateRestriction(r.Context(), p.ID, func(x store.Restriction) store.Restriction {
		set(&x.Category, p.Category)
		set(&x.Scope, p.Scope)
		set(&x.Value, p.Value)
		set(&x.State, p.State)
		set(&x.Code, p.Code)
		return x
	})
	if err != nil {
		return berr(err)
	}
	*res = restrictionOut(out)
	return nil
}

// RestrictionsDelete is admin.restrictions.delete.
func (s *Service) RestrictionsDelete(r *http.Request, p *adminwire.IDParams, res *adminwire.Empty) error {
	return berr(s.Policy.DeleteRestriction(r.Context(), p.ID))
}

// present is Barong's user object for u.
func (s *Service) present(ctx context.Context, u store.User) (adminwire.User, error) {
	prof, err := s.Store.Profile(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return adminwire.User{}, err
	}
	return barong.Present(u, prof), nil
}

// UsersList is admin.users.list.
func (s *Service) UsersList(r *http.Request, p *adminwire.UserListParams, res *adminwire.UserList) error {
	ctx := r.Context()
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	f := store.UserFilter{Role: p.Role, FirstName: p.FirstName, LastName: p.LastName, Limit: limit}
	if p.Cursor != "" {
		if p.Page > 1 {
			return fault.Field(fault.Invalid, "cursor", "either cursor or page")
		}
		f.Before = p.Cursor
	} else {
		f.Offset = off
	}
	if p.Email != "" {
		e, err := accounts.ParseEmail(p.Email)
		if err != nil {
			return fault.Field(fault.Invalid, "email", "an email address")
		}
		f.Email = e.Norm
	}
	if p.UID != "" {
		u, err := s.Admin.ByUID(ctx, p.UID)
		if fault.CodeOf(err) == fault.NotFound {
			res.Page, res.Limit, res.Users = pg, limit, []adminwire.User{}
			return nil
		}
		if err != nil {
			return err
		}
		return s.fill(ctx, res, pg, limit, filterOne([]store.User{u}, p))
	}
	switch p.State {
	case "":
	case "banned", "locked", "deleted":
		f.State = store.StateDisabled
	case "active", "pending":
		f.State = store.StateActive
		v := p.State == "active"
		f.EmailVerified = &v
	default:
		return fault.Field(fault.Invalid, "state", "active, pending, banned, locked or deleted")
	}
	if p.Level != nil {
		switch *p.Level {
		case 0, 1:
			v := *p.Level == 1
			f.EmailVerified = &v
		default:
			// Levels 2 and 3 need phone and document labels: none yet.
			res.Page, res.Limit, res.Users = pg, limit, []adminwire.User{}
			return nil
		}
	}
	if p.Country != "" {
		return fault.Field(fault.Invalid, "country", "not yet filterable: profiles' country is served by admin.profiles")
	}
	from, to := unix(p.From), unix(p.To)
	switch p.Range {
	case "", "created":
		f.CreatedFrom, f.CreatedTo = from, to
	case "updated":
		f.UpdatedFrom, f.UpdatedTo = from, to
	default:
		return fault.Field(fault.Invalid, "range", "created or updated")
	}
	us, err := s.Admin.List(ctx, f)
	if err != nil {
		return err
	}
	if err := s.fill(ctx, res, pg, limit, us); err != nil {
		return err
	}
	if len(us) == limit {
		res.NextCursor = us[len(us)-1].ID
	}
	return nil
}

// filterOne applies the list's other filters to the one user a uid names.
func filterOne(us []store.User, p *adminwire.UserListParams) []store.User {
	u := us[0]
	if p.Role != "" && p.Role != u.Role && !(p.Role == access.MemberRole && u.Role == "") {
		return nil
	}
	return us
}

func (s *Service) fill(ctx context.Context, res *adminwire.UserList, pg, limit int, us []store.User) error {
	res.Page, res.Limit, res.Users = pg, limit, make([]adminwire.User, 0, len(us))
	for _, u := range us {
		bu, err := s.present(ctx, u)
		if err != nil {
			return err
		}
		res.Users = append(res.Users, bu)
	}
	return nil
}

func unix(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// UsersGet is admin.users.get.
func (s *Service) UsersGet(r *http.Request, p *adminwire.UIDParams, res *adminwire.UserWithKYC) error {
	ctx := r.Context()
	u, err := s.Admin.ByUID(ctx, p.UID)
	if err != nil {
		return berr(err)
	}
	bu, err := s.present(ctx, u)
	if err != nil {
		return err
	}
	*res = adminwire.UserWithKYC{User: bu, Profiles: []adminwire.Profile{}, Labels: []adminwire.Label{},
		Phones: []adminwire.Phone{}, Documents: []any{}, DataStorages: []any{}}
	prof, _ := s.Store.Profile(ctx, u.ID)
	if k, err := s.Store.KYCProfile(ctx, u.ID); err == nil {
		res.Profiles = append(res.Profiles, adminwire.Profile{FirstName: prof.FirstName, LastName: prof.LastName, DOB: prof.Birthday,
			Address: k.Address, Postcode: prof.ZipCode, City: k.City, Country: k.Country, State: k.State, Metadata: k.Metadata})
	}
	labels, err := s.Store.Labels(ctx, u.ID, "")
	if err != nil {
		return err
	}
	for _, l := range labels {
		res.Labels = append(res.Labels, adminwire.Label{Key: l.Key, Value: l.Value, Scope: l.Scope, Description: l.Description,
			CreatedAt: l.Created, UpdatedAt: l.Updated})
	}
	phones, err := s.Store.Phones(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, ph := range phones {
		res.Phones = append(res.Phones, adminwire.Phone{Country: ph.Country, Number: ph.Number, ValidatedAt: ph.Validated})
	}
	return nil
}

// UsersUpdate is admin.users.update.
func (s *Service) UsersUpdate(r *http.Request, p *adminwire.UserUpdateParams, res *adminwire.User) error {
	u, err := s.Admin.Update(r.Context(), p.UID, p.State, p.OTP)
	if err != nil {
		return berr(err)
	}
	bu, err := s.present(r.Context(), u)
	*res = bu
	return err
}

// UsersRole is admin.users.role.
func (s *Service) UsersRole(r *http.Request, p *adminwire.UserRoleParams, res *adminwire.User) error {
	u, err := s.Admin.SetRole(r.Context(), p.UID, p.Role)
	if err != nil {
		return berr(err)
	}
	bu, err := s.present(r.Context(), u)
	*res = bu
	return err
}

// levels are Barong's seeded levels.
var levels = []adminwire.Level{
	{ID: 1, Key: "email", Value: "verified", Description: "User clicked on the confirmation link"},
	{ID: 2, Key: "phone", Value: "verified", Description: "User entered a valid code from sms"},
	{ID: 3, Key: "document", Value: "verified", Description: "User personal documents have been verified"},
}

// LevelsList is admin.levels.list.
func (s *Service) LevelsList(r *http.Request, p *adminwire.Empty, res *[]adminwire.Level) error {
	*res = append([]adminwire.Level(nil), levels...)
	return nil
}

// ActivitiesList is admin.activities.list: the users' trail.
func (s *Service) ActivitiesList(r *http.Request, p *adminwire.ActivityListParams, res *adminwire.ActivityList) error {
	return s.activities(r.Context(), store.CategoryUser, p, res)
}

// ActivitiesAdminList is admin.activities.admin.list: the admins' trail.
func (s *Service) ActivitiesAdminList(r *http.Request, p *adminwire.ActivityListParams, res *adminwire.ActivityList) error {
	return s.activities(r.Context(), store.CategoryAdmin, p, res)
}

func (s *Service) activities(ctx context.Context, category string, p *adminwire.ActivityListParams, res *adminwire.ActivityList) error {
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	if p.Range != "" && p.Range != "created" {
		return fault.Field(fault.Invalid, "range", "created")
	}
	f := store.ActivityFilter{Category: category, Topic: p.Topic, Action: p.Action, Since: unix(p.From), Until: unix(p.To), Before: p.Cursor}
	empty := func() error {
		res.Page, res.Limit, res.Activities = pg, limit, []adminwire.Activity{}
		return nil
	}
	if p.UID != "" || p.Email != "" {
		var u store.User
		var err error
		if p.UID != "" {
			u, err = s.Admin.ByUID(ctx, p.UID)
		} else {
			e, perr := accounts.ParseEmail(p.Email)
			if perr != nil {
				return fault.Field(fault.Invalid, "email", "an email address")
			}
			u, err = s.Store.UserByIdentifier(ctx, store.KindEmail, e.Norm)
			if errors.Is(err, store.ErrNotFound) {
				err = fault.New(fault.NotFound)
			}
		}
		if fault.CodeOf(err) == fault.NotFound {
			return empty()
		}
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	if p.TargetUID != "" {
		u, err := s.Admin.ByUID(ctx, p.TargetUID)
		if fault.CodeOf(err) == fault.NotFound {
			return empty()
		}
		if err != nil {
			return err
		}
		f.TargetID = u.ID
	}
	// Pages without a cursor are read through: at most 100 pages back.
	f.Limit = min(off+limit, 1000)
	if p.Cursor > 0 {
		f.Limit, off = limit, 0
	}
	rows, err := s.Store.Activities(ctx, f)
	if err != nil {
		return err
	}
	rows = window(rows, off, limit)
	res.Page, res.Limit, res.Activities = pg, limit, make([]adminwire.Activity, 0, len(rows))
	uids := map[string]string{}
	uidOf := func(id string) string {
		if id == "" {
			return ""
		}
		if v, ok := uids[id]; ok {
			return v
		}
		v := ""
		if u, err := s.Store.UserByID(ctx, id); err == nil {
			v = barong.UID(u)
		}
		uids[id] = v
		return v
	}
	for _, a := range rows {
		res.Activities = append(res.Activities, adminwire.Activity{ID: a.ID, UID: uidOf(a.UserID), TargetUID: uidOf(a.TargetID),
			UserIP: a.IP, Country: a.Country, UserAgent: a.UserAgent, Topic: a.Topic, Action: a.Action, Result: a.Result,
			Data: a.Data, CreatedAt: a.Created})
	}
	if len(rows) == limit {
		res.NextCursor = rows[len(rows)-1].ID
	}
	return nil
}

// parseTime reads Unix seconds or RFC 3339.
func parseTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fault.Field(fault.Invalid, field, "Unix seconds or RFC 3339")
	}
	return t.UTC(), nil
}

// Metrics is admin.metrics.
func (s *Service) Metrics(r *http.Request, p *adminwire.MetricsParams, res *adminwire.Metrics) error {
	from, err := parseTime("created_from", p.CreatedFrom)
	if err != nil {
		return err
	}
	to, err := parseTime("created_to", p.CreatedTo)
	if err != nil {
		return err
	}
	m, err := s.Admin.Metrics(r.Context(), from, to)
	if err != nil {
		return err
	}
	*res = adminwire.Metrics{From: m.From, To: m.To, Signups: m.Signups, SuccessfulLogins: m.SuccessfulLogins,
		FailedLogins: m.FailedLogins, Buckets: make([]adminwire.MetricsBucket, 0, len(m.Buckets))}
	for _, b := range m.Buckets {
		res.Buckets = append(res.Buckets, adminwire.MetricsBucket{Start: b.Start, Signups: b.Signups,
			SuccessfulLogins: b.SuccessfulLogins, FailedLogins: b.FailedLogins})
	}
	sort.Slice(res.Buckets, func(i, j int) bool { return res.Buckets[i].Start.Before(res.Buckets[j].Start) })
	return nil
}

func labelOut(l store.Label) adminwire.Label {
	return adminwire.Label{Key: l.Key, Value: l.Value, Scope: l.Scope, Description: l.Description, CreatedAt: l.Created, UpdatedAt: l.Updated}
}

func labelIn(p *adminwire.LabelParams) store.Label {
	return store.Label{Key: p.Key, Value: p.Value, Scope: p.Scope, Description: p.Description}
}

// LabelsList is admin.users.labels.list.
func (s *Service) LabelsList(r *http.Request, p *adminwire.LabelUsersParams, res *adminwire.UserList) error {
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	us, err := s.Admin.UsersByLabel(r.Context(), p.Key, p.Value, off, limit)
	if err != nil {
		return err
	}
	return s.fill(r.Context(), res, pg, limit, us)
}

// LabelsCreate is admin.users.labels.create.
func (s *Service) LabelsCreate(r *http.Request, p *adminwire.LabelParams, res *adminwire.Label) error {
	if p.Replace {
		return fault.Field(fault.Invalid, "replace", "only for admin.users.labels.update_value")
	}
	l, err := s.Admin.CreateLabel(r.Context(), p.UID, labelIn(p))
	if err != nil {
		return berr(err)
	}
	*res = labelOut(l)
	return nil
}

// LabelsUpdate is admin.users.labels.update.
func (s *Service) LabelsUpdate(r *http.Request, p *adminwire.LabelParams, res *adminwire.Label) error {
	if p.Replace {
		return fault.Field(fault.Invalid, "replace", "only for admin.users.labels.update_value")
	}
	l, err := s.Admin.PutLabel(r.Context(), p.UID, labelIn(p), false)
	if err != nil {
		return berr(err)
	}
	*res = labelOut(l)
	return nil
}

// LabelsUpdateValue is admin.users.labels.update_value.
func (s *Service) LabelsUpdateValue(r *http.Request, p *adminwire.LabelParams, res *adminwire.Label) error {
	l, err := s.Admin.PutLabel(r.Context(), p.UID, labelIn(p), p.Replace)
	if err != nil {
		return berr(err)
	}
	*res = labelOut(l)
	return nil
}

// LabelsDelete is admin.users.labels.delete.
func (s *Service) LabelsDelete(r *http.Request, p *adminwire.LabelDeleteParams, res *adminwire.Empty) error {
	return berr(s.Admin.DeleteLabel(r.Context(), p.UID, p.Key, p.Scope))
}

// LabelsKeys is admin.users.labels.keys.
func (s *Service) LabelsKeys(r *http.Request, p *adminwire.Empty, res *map[string][]string) error {
	m, err := s.Admin.LabelValues(r.Context())
	if err != nil {
		return err
	}
	*res = m
	return nil
}

func profileOut(up coreadmin.UserProfile) adminwire.UserProfile {
	return adminwire.UserProfile{UID: barong.UID(up.User), Profile: adminwire.Profile{FirstName: up.Profile.FirstName,
		LastName: up.Profile.LastName, DOB: up.Profile.Birthday, Address: up.KYC.Address, Postcode: up.Profile.ZipCode,
		City: up.KYC.City, Country: up.KYC.Country, State: up.KYC.State, Metadata: up.KYC.Metadata}}
}

// ProfilesList is admin.profiles.list.
func (s *Service) ProfilesList(r *http.Request, p *adminwire.PageParams, res *adminwire.ProfileList) error {
	pg, limit, off, err := page(p.Page, p.Limit)
	if err != nil {
		return err
	}
	ups, err := s.Admin.Profiles(r.Context(), off, limit)
	if err != nil {
		return err
	}
	res.Page, res.Limit, res.Profiles = pg, limit, make([]adminwire.UserProfile, 0, len(ups))
	for _, up := range ups {
		res.Profiles = append(res.Profiles, profileOut(up))
	}
	return nil
}

// ProfilesUpdate is admin.profiles.update.
func (s *Service) ProfilesUpdate(r *http.Request, p *adminwire.ProfileUpdateParams, res *adminwire.UserProfile) error {
	up, err := s.Admin.UpdateProfile(r.Context(), p.UID, coreadmin.ProfileChange{FirstName: p.FirstName, LastName: p.LastName,
		DOB: p.DOB, Address: p.Address, Postcode: p.Postcode, City: p.City, Country: p.Country, State: p.State, Metadata: p.Metadata})
	if err != nil {
		return berr(err)
	}
	*res = profileOut(up)
	return nil
}
