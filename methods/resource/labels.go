package resource

import (
	"net/http"
	"time"

	"partnergate/core/fault"
	"partnergate/core/kyc"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/store"
)

// Labels serves resource.labels.*.
type Labels struct {
	KYC *kyc.Service
}

// Methods declares them.
func (s *Labels) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.labels.list", Go: "List", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Lists the signed-in user's labels, public and private."},
		{Name: "resource.labels.create", Go: "Create", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Creates a public label (key [a-z0-9_-]{3,255}, value [A-Za-z0-9_-]{1,255}); reserved keys and private labels are the system's."},
		{Name: "resource.labels.get", Go: "Get", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{"key"},
			Doc: "Returns one of the user's labels by key."},
		{Name: "resource.labels.update", Go: "Update", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Sets the value of one of the user's public labels."},
		{Name: "resource.labels.delete", Go: "Delete", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"key"},
			Doc: "Deletes one of the user's public labels."},
	}
}

var labelKeys = map[fault.Code]string{
	fault.NotFound:      "resource.label.doesnt_exist",
	fault.AlreadyExists: "key.taken",
	fault.LabelPrivate:  "resource.labels.private",
	fault.LimitReached:  "resource.label.limit_reached",
}

// labelErr adds Barong's key.invalid / value.invalid to a validation
// failure, as its code_error! names the field.
func labelErr(err error) error {
	if fe, ok := fault.As(err); ok && fe.Code == fault.Invalid {
		out := *fe
		for f := range fe.Fields {
			out.Message = f + ".invalid"
		}
		return &out
	}
	return barong.Err(err, labelKeys)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func labelOut(l store.Label) resourcewire.Label {
	return resourcewire.Label{Key: l.Key, Value: l.Value, Scope: l.Scope, CreatedAt: l.Created.UTC(), UpdatedAt: l.Updated.UTC()}
}

// List is resource.labels.list.
func (s *Labels) List(r *http.Request, _ *resourcewire.Empty, res *[]resourcewire.Label) error {
	ls, err := s.KYC.Labels(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := make([]resourcewire.Label, len(ls))
	for i, l := range ls {
		out[i] = labelOut(l)
	}
	*res = out
	return nil
}

// Create is resource.labels.create.
func (s *Labels) Create(r *http.Request, p *resourcewire.LabelParams, res *resourcewire.Label) error {
	l, err := s.KYC.CreateUserLabel(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Key, p.Value)
	if err != nil {
		return labelErr(err)
	}
	*res = labelOut(l)
	return nil
}

// Get is resource.labels.get.
func (s *Labels) Get(r *http.Request, p *resourcewire.LabelKeyParams, res *resourcewire.Label) error {
	l, err := s.KYC.Label(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Key)
	if err != nil {
		return labelErr(err)
	}
	*res = labelOut(l)
	return nil
}

// Update is resource.labels.update.
func (s *Labels) Update(r *http.Request, p *resourcewire.LabelParams, res *resourcewire.Label) error {
	l, err := s.KYC.UpdateUserLabel(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Key, p.Value)
	if err != nil {
		return labelErr(err)
	}
	*res = labelOut(l)
	return nil
}

// Delete is resource.labels.delete.
func (s *Labels) Delete(r *http.Request, p *resourcewire.LabelKeyParams, res *bool) error {
	if err := s.KYC.DeleteUserLabel(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Key); err != nil {
		return labelErr(err)
	}
	*res = true
	return nil
}
