package resource

import (
	"net/http"

	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/store"
)

// Activity serves resource.users.activity.list from the one trail every
// namespace records to (core/activity).
type Activity struct {
	Trail *activity.Recorder
}

// Methods declares it.
func (s *Activity) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.users.activity.list", Go: "List", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"topic", "page", "limit"},
			Doc: "Lists the signed-in user's activity, newest first: topic all, session, password, otp, api_keys, account, profile, phone, label, document, code; page ≥ 1, limit 1-100."},
	}
}

// ActivityTopics are the topics the list takes; "all" lists every one.
var ActivityTopics = map[string]bool{
	"all": true, "session": true, "password": true, "otp": true, "api_keys": true, "account": true,
	"profile": true, "phone": true, "label": true, "document": true, "code": true,
}

// Paging limits. Pages are read by keyset (each page after the previous
// one's last entry), so a deep page costs a read per page before it:
// MaxPage bounds that.
const (
	DefaultLimit = 100
	MaxPage      = 100
)

// List is resource.users.activity.list. Barong answers 422
// resource.user.no_activity for an empty list; here an empty page is an
// empty list, which a client can tell from an error.
func (s *Activity) List(r *http.Request, p *resourcewire.ActivityParams, res *[]resourcewire.Activity) error {
	if !ActivityTopics[p.Topic] {
		e := fault.Field(fault.Invalid, "topic", "all, session, password, otp, api_keys, account, profile, phone, label, document or code")
		e.Message = "resource.user.wrong_topic"
		return e
	}
	page, limit := p.Page, p.Limit
	if page == 0 {
		page = 1
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if page < 1 || page > MaxPage {
		return fault.Field(fault.Invalid, "page", "1 to 100")
	}
	if limit < 1 || limit > activity.MaxLimit {
		return fault.Field(fault.Invalid, "limit", "1 to 100")
	}
	f := store.ActivityFilter{UserID: rpc.CallerFrom(r.Context()).UserID, Category: store.CategoryUser, Limit: limit}
	if p.Topic != "all" {
		f.Topic = p.Topic
	}
	var got []store.Activity
	for i := 1; ; i++ {
		var err error
		if got, err = s.Trail.List(r.Context(), f); err != nil {
			return err
		}
		if i == page {
			break
		}
		if len(got) < limit {
			got = nil // the trail ends before the page asked for
			break
		}
		f.Before = got[len(got)-1].ID
	}
	out := make([]resourcewire.Activity, 0, len(got))
	for _, a := range got {
		out = append(out, resourcewire.Activity{UserIP: a.IP, UserIPCountry: a.Country, UserAgent: a.UserAgent,
			Topic: a.Topic, Action: a.Action, Result: a.Result, Data: a.Data, CreatedAt: a.Created.UTC()})
	}
	*res = out
	return nil
}
