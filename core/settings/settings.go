// Package settings keeps a user's typed key-value settings (seed 004's
// accounts_settings: notification switches and the like), validated and
// capped, for any dialect that offers free-form settings. Seed 000's
// user.settings are fixed profile members and live in core/accounts.
package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Limits (docs/api.md, account.settings.set).
const (
	DefaultMaxPerUser = 100
	MaxPerCall        = 50
	MaxName           = 64
	MaxValue          = 1024
)

// nameForm is the seed's form: lower-case words of letters and digits
// joined by "-", groups joined by "__" (notifications-meters__email).
var nameForm = regexp.MustCompile(`^[a-z][a-z0-9]*(?:(?:-|__)[a-z0-9]+)*$`)

// ValidName reports whether name is a setting name.
func ValidName(name string) bool {
	return len(name) <= MaxName && nameForm.MatchString(name)
}

// Service reads and writes settings.
type Service struct {
	Store store.AccountSettings
	// MaxPerUser caps a user's settings; DefaultMaxPerUser when 0.
	MaxPerUser int
}

func (s *Service) max() int {
	if s.MaxPerUser > 0 {
		return s.MaxPerUser
	}
	return DefaultMaxPerUser
}

// List returns the user's settings by name.
func (s *Service) List(ctx context.Context, userID string) ([]store.AccountSetting, error) {
	out, err := s.Store.AccountSettings(ctx, userID)
	if err != nil {
		return nil, core.StoreError("settings: list", err)
	}
	return out, nil
}

// ParseValue reads one JSON value: a string, a number or a bool; null
// means remove. Anything else (an object, an array, an over-long value)
// is an error naming the problem.
func ParseValue(raw json.RawMessage) (v store.AccountSetting, remove bool, problem string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return v, false, "a string, a number, true, false or null"
	}
	switch raw[0] {
	case 'n':
		return v, true, ""
	case 't', 'f':
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return v, false, "a string, a number, true, false or null"
		}
		v.Type, v.Value = store.SettingBool, strconv.FormatBool(b)
	case '"':
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return v, false, "a string, a number, true, false or null"
		}
		v.Type, v.Value = store.SettingString, str
	case '{', '[':
		return v, false, "a string, a number, true, false or null"
	default:
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return v, false, "a string, a number, true, false or null"
		}
		v.Type, v.Value = store.SettingNumber, n.String()
	}
	if len(v.Value) > MaxValue || !utf8.ValidString(v.Value) {
		return v, false, fmt.Sprintf("at most %d bytes of UTF-8", MaxValue)
	}
	return v, false, ""
}

// Set writes the given settings (null removes one) in one step and
// returns the names written or removed, sorted. Every name and value is
// checked first: fault.Invalid with a field per bad one, and nothing
// changes; fault.SettingsLimit when the user would have more than the cap.
func (s *Service) Set(ctx context.Context, userID string, in map[string]json.RawMessage) ([]string, error) {
	if len(in) == 0 {
		return nil, fault.Errorf(fault.Invalid, "No settings given.")
	}
	if len(in) > MaxPerCall {
		return nil, fault.Errorf(fault.Invalid, "At most %d settings per call.", MaxPerCall)
	}
	fields := map[string]string{}
	var set []store.AccountSetting
	var remove, names []string
	for name, raw := range in {
		if !ValidName(name) {
			fields[clipName(name)] = fmt.Sprintf("a name of lower-case letters and digits joined by - or __, at most %d", MaxName)
			continue
		}
		v, rm, problem := ParseValue(raw)
		switch {
		case problem != "":
			fields[name] = problem
		case rm:
			remove = append(remove, name)
		default:
			v.Name = name
			set = append(set, v)
		}
		names = append(names, name)
	}
	if len(fields) > 0 {
		return nil, &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: fields}
	}
	sort.Strings(names)
	sort.Slice(set, func(i, j int) bool { return set[i].Name < set[j].Name })
	sort.Strings(remove)
	err := s.Store.SetAccountSettings(ctx, userID, set, remove, s.max())
	switch {
	case errors.Is(err, store.ErrLimitReached):
		return nil, fault.Errorf(fault.SettingsLimit, "Too many settings: at most %d.", s.max())
	case errors.Is(err, store.ErrNotFound):
		return nil, fault.New(fault.NotFound)
	case err != nil:
		return nil, core.StoreError("settings: set", err)
	}
	return names, nil
}

// clipName keeps a refused name short enough to echo in fields.
func clipName(name string) string {
	if len(name) <= MaxName {
		return name
	}
	n := MaxName
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return name[:n] + "…"
}
