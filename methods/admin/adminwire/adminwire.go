// Package adminwire holds seed 002's (Barong 2.4's) admin.* params and
// results. It imports only the standard library (and the shared Barong
// user object) so that an SDK can name these types without linking the
// server; methods/admin serves them. The rpc tags are the server's limits.
//
// Barong sends a list's page, size and total in HTTP headers; a JSON-RPC
// result has none, so every list answers an object: the items beside page,
// limit and (where a keyset applies) next_cursor.
package adminwire

import (
	"time"

	"partnergate/methods/barong/barongwire"
)

// Empty is the result of the deletions (Barong's 204) and the params of
// the methods that take none.
type Empty struct{}

// PageParams are Barong's page (from 1) and limit (1 to 100, default 100).
type PageParams struct {
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

// Permission is one permission row.
type Permission struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Verb      string    `json:"verb"`
	Path      string    `json:"path"`
	Action    string    `json:"action"`
	Topic     string    `json:"topic"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PermissionList is admin.permissions.list's result.
type PermissionList struct {
	Page        int          `json:"page"`
	Limit       int          `json:"limit"`
	Total       int          `json:"total"`
	Permissions []Permission `json:"permissions"`
}

// PermissionCreateParams is POST /admin/permissions.
type PermissionCreateParams struct {
	Role   string `json:"role" rpc:"required,max=64"`
	Verb   string `json:"verb" rpc:"required,max=16"`
	Path   string `json:"path" rpc:"required,max=200"`
	Action string `json:"action" rpc:"required,max=16"`
	Topic  string `json:"topic" rpc:"max=64"`
}

// PermissionUpdateParams is PUT /admin/permissions: members left out keep
// their value.
type PermissionUpdateParams struct {
	ID     int64   `json:"id" rpc:"required"`
	Role   *string `json:"role" rpc:"max=64"`
	Verb   *string `json:"verb" rpc:"max=16"`
	Path   *string `json:"path" rpc:"max=200"`
	Action *string `json:"action" rpc:"max=16"`
	Topic  *string `json:"topic" rpc:"max=64"`
}

// IDParams names one row (DELETE /admin/permissions, /admin/restrictions).
type IDParams struct {
	ID int64 `json:"id" rpc:"required"`
}

// Restriction is one restriction.
type Restriction struct {
	ID        int64     `json:"id"`
	Category  string    `json:"category"`
	Scope     string    `json:"scope"`
	Value     string    `json:"value"`
	Code      int       `json:"code"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RestrictionListParams is GET /admin/restrictions.
type RestrictionListParams struct {
	Scope    string `json:"scope" rpc:"max=16"`
	Category string `json:"category" rpc:"max=16"`
	Range    string `json:"range" rpc:"max=16"`
	Page     int    `json:"page"`
	Limit    int    `json:"limit"`
}

// RestrictionList is admin.restrictions.list's result.
type RestrictionList struct {
	Page         int           `json:"page"`
	Limit        int           `json:"limit"`
	Total        int           `json:"total"`
	Restrictions []Restriction `json:"restrictions"`
}

// RestrictionCreateParams is POST /admin/restrictions. State defaults to
// enabled; Code is Barong's optional code shown with the refusal.
type RestrictionCreateParams struct {
	Category string `json:"category" rpc:"required,max=16"`
	Scope    string `json:"scope" rpc:"required,max=16"`
	Value    string `json:"value" rpc:"required,max=64"`
	State    string `json:"state" rpc:"max=16"`
	Code     int    `json:"code"`
}

// RestrictionUpdateParams is PUT /admin/restrictions.
type RestrictionUpdateParams struct {
	ID       int64   `json:"id" rpc:"required"`
	Category *string `json:"category" rpc:"max=16"`
	Scope    *string `json:"scope" rpc:"max=16"`
	Value    *string `json:"value" rpc:"max=64"`
	State    *string `json:"state" rpc:"max=16"`
	Code     *int    `json:"code"`
}

// User is Barong's user object.
type User = barongwire.User

// UserListParams is GET /admin/users with Barong's filters, plus a keyset
// cursor (next_cursor of the previous page) that pages without counting.
type UserListParams struct {
	Extended  bool   `json:"extended"`
	UID       string `json:"uid" rpc:"max=32"`
	Email     string `json:"email" rpc:"max=254"`
	Role      string `json:"role" rpc:"max=64"`
	FirstName string `json:"first_name" rpc:"max=255"`
	LastName  string `json:"last_name" rpc:"max=255"`
	Country   string `json:"country" rpc:"max=64"`
	Level     *int   `json:"level"`
	State     string `json:"state" rpc:"max=16"`
	// Range is created (default) or updated: which time From and To bound.
	Range  string `json:"range" rpc:"max=16"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Page   int    `json:"page"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor" rpc:"max=64"`
}

// UserList is admin.users.list's result.
type UserList struct {
	Page       int    `json:"page"`
	Limit      int    `json:"limit"`
	NextCursor string `json:"next_cursor"`
	Users      []User `json:"users"`
}

// UIDParams names a user by Barong uid.
type UIDParams struct {
	UID string `json:"uid" rpc:"required,max=32"`
}

// Profile is Barong's profile model.
type Profile struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	DOB       string `json:"dob"`
	Address   string `json:"address"`
	Postcode  string `json:"postcode"`
	City      string `json:"city"`
	Country   string `json:"country"`
	State     string `json:"state"`
	Metadata  string `json:"metadata"`
}

// Label is Barong's AdminLabelView.
type Label struct {
	Key         string    `json:"key"`
	Value       string    `json:"value"`
	Scope       string    `json:"scope"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Phone is Barong's phone model.
type Phone struct {
	Country     string     `json:"country"`
	Number      string     `json:"number"`
	ValidatedAt *time.Time `json:"validated_at"`
}

// UserWithKYC is admin.users.get's result: the user object with its
// profiles, labels, phones, documents and data storages. API keys are
// listed without secrets.
type UserWithKYC struct {
	User
	Profiles     []Profile `json:"profiles"`
	Labels       []Label   `json:"labels"`
	Phones       []Phone   `json:"phones"`
	Documents    []any     `json:"documents"`
	DataStorages []any     `json:"data_storages"`
}

// UserUpdateParams is PUT /admin/users (and POST /admin/users/update):
// state active, banned, locked or deleted; otp false turns 2FA off.
type UserUpdateParams struct {
	UID   string  `json:"uid" rpc:"required,max=32"`
	State *string `json:"state" rpc:"max=16"`
	OTP   *bool   `json:"otp"`
}

// UserRoleParams is POST /admin/users/role.
type UserRoleParams struct {
	UID  string `json:"uid" rpc:"required,max=32"`
	Role string `json:"role" rpc:"required,max=64"`
}

// Level is Barong's level model.
type Level struct {
	ID          int    `json:"id"`
	Key         string `json:"key"`
	Value       string `json:"value"`
	Description string `json:"description"`
}

// ActivityListParams is GET /admin/activities and /admin/activities/admin.
type ActivityListParams struct {
	Topic     string `json:"topic" rpc:"max=64"`
	Action    string `json:"action" rpc:"max=128"`
	UID       string `json:"uid" rpc:"max=32"`
	Email     string `json:"email" rpc:"max=254"`
	TargetUID string `json:"target_uid" rpc:"max=32"`
	// From and To are Unix seconds bounding created_at (Range: created,
	// the only time an entry has).
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Range  string `json:"range" rpc:"max=16"`
	Page   int    `json:"page"`
	Limit  int    `json:"limit"`
	Cursor int64  `json:"cursor"`
}

// Activity is Barong's activity model, with the admin's and target's uids.
type Activity struct {
	ID        int64     `json:"id"`
	UID       string    `json:"uid"`
	TargetUID string    `json:"target_uid,omitempty"`
	UserIP    string    `json:"user_ip"`
	Country   string    `json:"user_ip_country"`
	UserAgent string    `json:"user_agent"`
	Topic     string    `json:"topic"`
	Action    string    `json:"action"`
	Result    string    `json:"result"`
	Data      string    `json:"data"`
	CreatedAt time.Time `json:"created_at"`
}

// ActivityList is the activities' result.
type ActivityList struct {
	Page       int        `json:"page"`
	Limit      int        `json:"limit"`
	NextCursor int64      `json:"next_cursor"`
	Activities []Activity `json:"activities"`
}

// MetricsParams is GET /admin/metrics: Unix seconds or RFC 3339 times;
// empty is the last 7 days.
type MetricsParams struct {
	CreatedFrom string `json:"created_from" rpc:"max=32"`
	CreatedTo   string `json:"created_to" rpc:"max=32"`
}

// MetricsBucket is one day's (one hour's, for periods of two days or less)
// counts.
type MetricsBucket struct {
	Start            time.Time `json:"start"`
	Signups          int64     `json:"signups"`
	SuccessfulLogins int64     `json:"successful_logins"`
	FailedLogins     int64     `json:"failed_logins"`
}

// Metrics is admin.metrics's result.
type Metrics struct {
	From             time.Time       `json:"from"`
	To               time.Time       `json:"to"`
	Signups          int64           `json:"signups"`
	SuccessfulLogins int64           `json:"successful_logins"`
	FailedLogins     int64           `json:"failed_logins"`
	Buckets          []MetricsBucket `json:"buckets"`
}

// LabelParams is POST/PUT /admin/users/labels and POST
// /admin/users/labels/update (Replace: create when missing).
type LabelParams struct {
	UID         string `json:"uid" rpc:"required,max=32"`
	Key         string `json:"key" rpc:"required,max=255"`
	Value       string `json:"value" rpc:"required,max=255"`
	Scope       string `json:"scope" rpc:"max=16"`
	Description string `json:"description" rpc:"max=255"`
	Replace     bool   `json:"replace"`
}

// LabelDeleteParams is DELETE /admin/users/labels.
type LabelDeleteParams struct {
	UID   string `json:"uid" rpc:"required,max=32"`
	Key   string `json:"key" rpc:"required,max=255"`
	Scope string `json:"scope" rpc:"required,max=16"`
}

// LabelUsersParams is GET /admin/users/labels: the users with key = value.
type LabelUsersParams struct {
	Key   string `json:"key" rpc:"required,max=255"`
	Value string `json:"value" rpc:"required,max=255"`
	Page  int    `json:"page"`
	Limit int    `json:"limit"`
}

// ProfileUpdateParams is PUT /admin/profiles; members left out keep their
// value. State is drafted, submitted, verified or rejected.
type ProfileUpdateParams struct {
	UID       string  `json:"uid" rpc:"required,max=32"`
	FirstName *string `json:"first_name" rpc:"max=255"`
	LastName  *string `json:"last_name" rpc:"max=255"`
	DOB       *string `json:"dob" rpc:"max=10"`
	Address   *string `json:"address" rpc:"max=255"`
	Postcode  *string `json:"postcode" rpc:"max=255"`
	City      *string `json:"city" rpc:"max=255"`
	Country   *string `json:"country" rpc:"max=255"`
	State     *string `json:"state" rpc:"max=16"`
	Metadata  *string `json:"metadata" rpc:"max=4096"`
}

// UserProfile is a profile with its user's uid.
type UserProfile struct {
	UID string `json:"uid"`
	Profile
}

// ProfileList is admin.profiles.list's result.
type ProfileList struct {
	Page     int           `json:"page"`
	Limit    int           `json:"limit"`
	Profiles []UserProfile `json:"profiles"`
}
