package user

import (
	"net/http"

	"partnergate/core/products"
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

// ProductsGetParams is user.products.get's (empty) request.
type ProductsGetParams struct{}

// ProductsItem is one product as seed 000 lists it. Info is the URL of an
// information page, null when there is none.
type ProductsItem struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Policy      string  `json:"policy"`
	Icon        string  `json:"icon"`
	Info        *string `json:"info"`
	State       string  `json:"state"` // activated, deactivated or disabled
}

// Get is user.products.get.
func (s *Products) Get(r *http.Request, _ *ProductsGetParams, res *[]ProductsItem) error {
	list, err := s.Products.List(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := make([]ProductsItem, 0, len(list))
	for _, p := range list {
		it := ProductsItem{ID: p.ID, Title: p.Title, Description: p.Description, Policy: p.Policy, Icon: p.Icon, State: p.State}
		if p.Info != "" {
			info := p.Info
			it.Info = &info
		}
		out = append(out, it)
	}
	*res = out
	return nil
}

// ProductsChangeParams names the product to activate or deactivate.
type ProductsChangeParams struct {
	ProductID string `json:"product_id" rpc:"required,max=64"`
}

// ProductsActivateResult is user.products.activate's data.
type ProductsActivateResult struct {
	Modules []string `json:"modules"`
}

// ProductsDeactivateResult is user.products.deactivate's data;
// subscription_cancel is left out when the product has no subscription.
type ProductsDeactivateResult struct {
	Modules            []string `json:"modules"`
	SubscriptionCancel string   `json:"subscription_cancel,omitempty"`
}

func productChange(r *http.Request, id string) products.Change {
	c := rpc.CallerFrom(r.Context())
	return products.Change{UserID: c.UserID, ProductID: id, IP: c.IP, UserAgent: c.UserAgent}
}

// Activate is user.products.activate.
func (s *Products) Activate(r *http.Request, p *ProductsChangeParams, res *ProductsActivateResult) error {
	modules, err := s.Products.Activate(r.Context(), productChange(r, p.ProductID))
	if err != nil {
		return err
	}
	res.Modules = modules
	return nil
}

// Deactivate is user.products.deactivate.
func (s *Products) Deactivate(r *http.Request, p *ProductsChangeParams, res *ProductsDeactivateResult) error {
	modules, cancel, err := s.Products.Deactivate(r.Context(), productChange(r, p.ProductID))
	if err != nil {
		return err
	}
	res.Modules, res.SubscriptionCancel = modules, cancel
	return nil
}
