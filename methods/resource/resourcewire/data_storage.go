package resourcewire

import "time"

// DataStorageCreateParams is POST /resource/data_storage: a title (unique
// per user without regard to case) and data, a JSON document as a string
// of at most 5120 bytes.
type DataStorageCreateParams struct {
	Title string `json:"title" rpc:"required,max=64"`
	Data  string `json:"data" rpc:"required,max=5120"`
}

// DataStorage is the storage as recorded.
type DataStorage struct {
	Title     string    `json:"title"`
	Data      string    `json:"data"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
