package account

import (
	"net/http"
	"strconv"

	"partnergate/methods/account/accountwire"
	"partnergate/rpc"
)

// SettingsGet is account.settings.get.
func (s *Service) SettingsGet(r *http.Request, _ *accountwire.Empty, res *accountwire.Settings) error {
	list, err := s.Settings.List(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	res.API = make([]accountwire.Setting, len(list))
	for i, a := range list {
		res.API[i] = accountwire.Setting{Name: a.Name, CreatedTS: a.Created.Unix(), Value: a.Value, Type: a.Type}
	}
	return nil
}

// SettingsSet is account.settings.set.
func (s *Service) SettingsSet(r *http.Request, p *accountwire.SettingsSetParams, res *accountwire.SettingsSetResult) error {
	names, err := s.Settings.Set(r.Context(), rpc.CallerFrom(r.Context()).UserID, *p)
	if err != nil {
		return err
	}
	*res = accountwire.SettingsSetResult{Success: true, SetCount: len(names), Result: make(map[string]bool, len(names))}
	for _, n := range names {
		res.Result[n] = true
	}
	return nil
}

// historyTime is the seed's date_time layout (UTC).
const historyTime = "02.01.2006 15:04:05"

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optNum(f float64) *float64 {
	if f == 0 {
		return nil
	}
	return &f
}

// AuthHistory is account.authHistory.
func (s *Service) AuthHistory(r *http.Request, p *accountwire.AuthHistoryParams, res *[]accountwire.AuthEntry) error {
	list, err := s.Activity.History(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Limit, p.Before)
	if err != nil {
		return err
	}
	out := make([]accountwire.AuthEntry, len(list))
	for i, si := range list {
		c := si.Client
		e := accountwire.AuthEntry{
			ID: si.ID, DateTime: si.At.UTC().Format(historyTime), TS: strconv.FormatInt(si.At.Unix(), 10),
			Browser:  accountwire.NameVersion{Family: c.BrowserFamily, Version: optStr(c.BrowserVersion)},
			OS:       accountwire.NameVersion{Family: c.OSFamily, Version: optStr(c.OSVersion)},
			Device:   accountwire.Device{Brand: optStr(c.DeviceBrand), Family: c.DeviceFamily, Model: optStr(c.DeviceModel)},
			MapLinks: map[string]string{}, Type: c.Kind, Action: si.Action, IP: si.IP, UserAgent: si.UserAgent,
		}
		pl := si.Place
		if pl.Country != "" {
			name := pl.CountryName
			if name == "" {
				name = pl.Country
			}
			e.Country = &accountwire.Place{ISO: pl.Country, NameEN: name}
		}
		if pl.City != "" {
			e.City = &accountwire.Place{NameEN: pl.City, Lat: optNum(pl.Lat), Lon: optNum(pl.Lon)}
		}
		if pl.Lat != 0 || pl.Lon != 0 {
			e.MapLinks["google"] = "https://google.com/maps/search/" + strconv.FormatFloat(pl.Lat, 'f', 5, 64) + "," + strconv.FormatFloat(pl.Lon, 'f', 5, 64)
		}
		out[i] = e
	}
	*res = out
	return nil
}
