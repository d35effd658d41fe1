// Package barongwire holds the shapes seed 002 (Barong 2.4) uses in more than
// one of its namespaces (identity.*, resource.*, admin.*): the user object.
// It imports only the standard library so that an SDK can name it without
// linking the server.
package barongwire

import "time"

// User is Barong's user object. Data is a JSON document as a string, as
// Barong returns it.
type User struct {
	UID         string    `json:"uid"`
	Email       string    `json:"email"`
	Role        string    `json:"role"`
	Level       int       `json:"level"`
	OTP         bool      `json:"otp"`
	State       string    `json:"state"`
	ReferralUID *string   `json:"referral_uid"`
	Data        string    `json:"data"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}
