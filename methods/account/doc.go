// Package account will serve seed 004's (the IoT account API's) account.*
// namespace: login with signed access JWTs and rotating refresh tokens,
// signup, whoAmI, settings and the authorization history (issue "Seed 004").
// The domain core's accounts live in core/accounts; this is only the
// dialect, which keeps the seed's member names (WAVIOT_JWT, rt, sessid).
package account
