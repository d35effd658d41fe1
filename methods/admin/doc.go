// Package admin will serve seed 002's (Barong's) admin.* namespace: users,
// roles, permissions, restrictions, levels, labels, profiles, documents,
// activities and metrics (issue "Seed 002 (Barong), admin side"). Access is
// decided by core/access for every namespace, never here.
package admin
