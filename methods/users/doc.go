// Package users will serve seed 003's (the chat users API's) users.*
// namespace: usernames, per-device sessions, Basic login, account keys,
// search and photos (issue "Seed 003"). A thin dialect over core/.
package users
