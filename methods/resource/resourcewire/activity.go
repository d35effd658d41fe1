package resourcewire

import "time"

// ActivityParams is GET /resource/users/activity/{topic}.
type ActivityParams struct {
	Topic string `json:"topic" rpc:"required,max=32"`
	Page  int    `json:"page"`
	Limit int    `json:"limit"`
}

// Activity is Barong's activity entry. Data is a JSON object as a string.
type Activity struct {
	UserIP        string    `json:"user_ip"`
	UserIPCountry string    `json:"user_ip_country"`
	UserAgent     string    `json:"user_agent"`
	Topic         string    `json:"topic"`
	Action        string    `json:"action"`
	Result        string    `json:"result"`
	Data          string    `json:"data"`
	CreatedAt     time.Time `json:"created_at"`
}
