package store

import (
	"context"
	"time"
)

// Types of an AccountSetting's value.
const (
	SettingString = "string"
	SettingNumber = "number"
	SettingBool   = "bool"
)

// AccountSetting is one of a user's typed key-value settings (seed 004's
// accounts_settings, account.settings.*). Value is the value's text: a
// string as given, a number in its JSON form, a bool as "true" or
// "false". Created is when the name was first set for the user; setting it
// again keeps Created and moves Updated.
type AccountSetting struct {
	Name    string
	Type    string
	Value   string
	Created time.Time
	Updated time.Time
}

// AccountSettings keeps account settings. Seed 000's user.settings are
// fixed profile columns (Profile), not key-value: these are a table of
// their own, one row per (user, name), gone with the user.
type AccountSettings interface {
	// AccountSettings lists the user's settings by name. None is an empty
	// list, also for an unknown user.
	AccountSettings(ctx context.Context, userID string) ([]AccountSetting, error)
	// SetAccountSettings, in one transaction serialised per user, removes
	// the names in remove, then creates or replaces each of set (Created
	// and Updated from the store's clock; an existing name keeps Created).
	// If the user would then have more than max settings nothing is
	// written and ErrLimitReached is returned. ErrNotFound when the user does not
	// exist; a plain error for an empty name or an unknown Type.
	SetAccountSettings(ctx context.Context, userID string, set []AccountSetting, remove []string, max int) error
}
