package user

import (
	"net/http"

	"partnergate/core/products"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
)

// Products serves user.products.get, activate and deactivate.
type Products struct {
	Products *products.Service
}

// Methods declares them.
func (s *Products) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.products.get", Go: "Get", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Lists the product catalogue with the user's activation state of each product."},
		{Name: "user.products.activate", Go: "Activate", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"product_id"},
			Doc: "Activates a product (recorded, with time and IP, as consent to its user agreement); returns the user's active products."},
		{Name: "user.products.deactivate", Go: "Deactivate", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"product_id"},
			Doc: "Deactivates a product (recorded as termination of its agreement); returns the user's active products and where to cancel a paid subscription."},
	}
}

// Get is user.products.get.
func (s *Products) Get(r *http.Request, _ *userwire.ProductsGetParams, res *[]userwire.ProductsItem) error {
	list, err := s.Products.List(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := make([]userwire.ProductsItem, 0, len(list))
	for _, p := range list {
		it := userwire.ProductsItem{ID: p.ID, Title: p.Title, Description: p.Description, Policy: p.Policy, Icon: p.Icon, State: p.State}
		if p.Info != "" {
			info := p.Info
			it.Info = &info
		}
		out = append(out, it)
	}
	*res = out
	return nil
}

func productChange(r *http.Request, id string) products.Change {
	c := rpc.CallerFrom(r.Context())
	return products.Change{UserID: c.UserID, ProductID: id, IP: c.IP, UserAgent: c.UserAgent}
}

// Activate is user.products.activate.
func (s *Products) Activate(r *http.Request, p *userwire.ProductsChangeParams, res *userwire.ProductsActivateResult) error {
	modules, err := s.Products.Activate(r.Context(), productChange(r, p.ProductID))
	if err != nil {
		return err
	}
	res.Modules = modules
	return nil
}

// Deactivate is user.products.deactivate.
func (s *Products) Deactivate(r *http.Request, p *userwire.ProductsChangeParams, res *userwire.ProductsDeactivateResult) error {
	modules, cancel, err := s.Products.Deactivate(r.Context(), productChange(r, p.ProductID))
	if err != nil {
		return err
	}
	res.Modules, res.SubscriptionCancel = modules, cancel
	return nil
}
