package resourcewire

import (
	"encoding/json"
	"time"
)

// Profile is Barong's profile. Metadata is a JSON object.
type Profile struct {
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	DOB       string          `json:"dob"`
	Address   string          `json:"address"`
	Postcode  string          `json:"postcode"`
	City      string          `json:"city"`
	Country   string          `json:"country"`
	State     string          `json:"state"`
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ProfileParams is POST and PUT /resource/profiles: members left out stay
// as they are; confirm submits the profile.
type ProfileParams struct {
	FirstName *string `json:"first_name" rpc:"max=255"`
	LastName  *string `json:"last_name" rpc:"max=255"`
	DOB       *string `json:"dob" rpc:"max=10"`
	Address   *string `json:"address" rpc:"max=1024"`
	Postcode  *string `json:"postcode" rpc:"max=32"`
	City      *string `json:"city" rpc:"max=255"`
	Country   *string `json:"country" rpc:"max=2"`
	Metadata  *string `json:"metadata" rpc:"max=4096"`
	Confirm   bool    `json:"confirm"`
}
