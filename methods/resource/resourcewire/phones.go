package resourcewire

import "time"

// Phone is Barong's phone.
type Phone struct {
	Country     string     `json:"country"`
	Number      string     `json:"number"`
	ValidatedAt *time.Time `json:"validated_at"`
}

// PhoneParams is POST /resource/phones and /resource/phones/send_code.
type PhoneParams struct {
	PhoneNumber string `json:"phone_number" rpc:"required,max=32"`
	Channel     string `json:"channel" rpc:"max=8"`
}

// PhoneVerifyParams is POST /resource/phones/verify.
type PhoneVerifyParams struct {
	PhoneNumber      string `json:"phone_number" rpc:"required,max=32"`
	VerificationCode string `json:"verification_code" rpc:"required,max=16"`
}

// Message is Barong's {"message": ...} answer.
type Message struct {
	Message string `json:"message"`
}
