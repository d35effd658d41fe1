// Package resource will serve seed 002's (Barong's) resource.* namespace,
// the signed-in user's own things: API keys, TOTP, phones, documents,
// profiles, labels, password change and the activity trail (issue "Seed 002
// (Barong), user side"). A thin dialect over core/.
package resource
