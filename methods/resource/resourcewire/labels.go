package resourcewire

import "time"

// Label is Barong's label.
type Label struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LabelKeyParams is GET and DELETE /resource/labels/{key}.
type LabelKeyParams struct {
	Key string `json:"key" rpc:"required,max=255"`
}

// LabelParams is POST /resource/labels and PATCH /resource/labels/{key}.
type LabelParams struct {
	Key   string `json:"key" rpc:"required,max=255"`
	Value string `json:"value" rpc:"required,max=255"`
}
