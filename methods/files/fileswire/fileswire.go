// Package fileswire holds files.* params and results (seed 003's FILES
// section, which the dump leaves out). It imports only the standard library
// so an SDK can name these types without linking the server. The rpc tags
// are the server's limits, read by rpc when it decodes params.
package fileswire

import "time"

// CreateParams is files.create: the file's bytes in standard, padded
// base64. Its length is bounded by the request body
// (PARTNERGATE_MAX_BODY) and the decoded size by PARTNERGATE_FILES_MAX_SIZE.
type CreateParams struct {
	Data string `json:"data" rpc:"required,max=67108864"`
}

// File is an uploaded file as seed 003's photo object names it (id,
// fileType, fileSize), with where the gateway serves it.
type File struct {
	ID string `json:"id"`
	// FileType is "png", "jpeg" or "webp", read from the magic bytes.
	FileType string `json:"fileType"`
	FileSize int64  `json:"fileSize"`
	// ContentType is the MIME type the gateway serves it with.
	ContentType string `json:"contentType"`
	SHA256      string `json:"sha256"`
	// URL is the gateway's path for the bytes, GET with the owner's
	// Authorization header; never a bucket URL.
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"createdAt"`
}
