// Package files will serve files.*, the upload of files seed 003's photos
// point to (the seed's FILES section), stored in an S3-compatible server.
package files
