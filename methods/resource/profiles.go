package resource

import (
	"encoding/json"
	"net/http"

	"partnergate/core/fault"
	"partnergate/core/kyc"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
)

// Profiles serves resource.profiles.*.
type Profiles struct {
	KYC *kyc.Service
}

// Methods declares them.
func (s *Profiles) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.profiles.me", Go: "Me", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Returns the signed-in user's profile."},
		{Name: "resource.profiles.create", Go: "Create", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Creates the signed-in user's profile (drafted; submitted with confirm)."},
		{Name: "resource.profiles.update", Go: "Update", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Changes the signed-in user's drafted profile (confirm submits it)."},
	}
}

var profileKeys = map[fault.Code]string{
	fault.NotFound:      "resource.profile.not_exist",
	fault.ProfileExists: "resource.profile.exist",
	fault.ProfileLocked: "resource.profile.doesnt_exist_or_not_editable",
}

func profileOut(p kyc.Profile) resourcewire.Profile {
	meta := json.RawMessage(p.KYC.Metadata)
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return resourcewire.Profile{
		FirstName: p.Shared.FirstName, LastName: p.Shared.LastName, DOB: p.Shared.Birthday,
		Address: p.KYC.Address, Postcode: p.Shared.ZipCode, City: p.KYC.City, Country: p.KYC.Country,
		State: p.KYC.State, Metadata: meta, CreatedAt: p.KYC.Created.UTC(), UpdatedAt: p.KYC.Updated.UTC(),
	}
}

func profileIn(p *resourcewire.ProfileParams) kyc.ProfileInput {
	return kyc.ProfileInput{FirstName: p.FirstName, LastName: p.LastName, DOB: p.DOB, Address: p.Address,
		Postcode: p.Postcode, City: p.City, Country: p.Country, Metadata: p.Metadata, Confirm: p.Confirm}
}

// Me is resource.profiles.me.
func (s *Profiles) Me(r *http.Request, _ *resourcewire.Empty, res *resourcewire.Profile) error {
	p, err := s.KYC.Profile(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return barong.Err(err, profileKeys)
	}
	*res = profileOut(p)
	return nil
}

// Create is resource.profiles.create.
func (s *Profiles) Create(r *http.Request, p *resourcewire.ProfileParams, res *resourcewire.Profile) error {
	out, err := s.KYC.CreateProfile(r.Context(), rpc.CallerFrom(r.Context()).UserID, profileIn(p))
	if err != nil {
		return barong.Err(err, profileKeys)
	}
	*res = profileOut(out)
	return nil
}

// Update is resource.profiles.update.
func (s *Profiles) Update(r *http.Request, p *resourcewire.ProfileParams, res *resourcewire.Profile) error {
	keys := map[fault.Code]string{fault.NotFound: "resource.profile.doesnt_exist_or_not_editable", fault.ProfileLocked: "resource.profile.doesnt_exist_or_not_editable"}
	out, err := s.KYC.UpdateProfile(r.Context(), rpc.CallerFrom(r.Context()).UserID, profileIn(p))
	if err != nil {
		return barong.Err(err, keys)
	}
	*res = profileOut(out)
	return nil
}
