package livepage

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/client"
)

// identityAttributes are the client.AuthData attributes that name the
// caller, in the order they are tried: "subject" is what oidcauth sets
// (the token's sub claim), "username" what basicauth sets. bearertokenauth
// (v0.165.1) sets no attribute at all: its callers are authenticated but
// anonymous, and see only the public dashboards.
var identityAttributes = []string{"subject", "username"}

// Identity is the authenticated caller's name, "" when the request carries
// none (no auth extension, or one that names nobody).
func Identity(ctx context.Context) string {
	auth := client.FromContext(ctx).Auth
	if auth == nil {
		return ""
	}
	for _, name := range identityAttributes {
		if s, ok := auth.GetAttribute(name).(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// visible reports whether the caller may see d. Without auth every
// dashboard is visible: whoever reaches the listener can query the API
// the dashboards read anyway. With auth, a public dashboard is visible to
// every authenticated caller, the others to the identities the definition
// names (owner, editors, viewers), compared as they are: a seed user id
// is the authenticator's subject or username.
func visible(d *Dashboard, authOn bool, who string) bool {
	if !authOn || d.Access.IsPublic {
		return true
	}
	if who == "" {
		return false
	}
	return who == d.Access.Owner || slices.Contains(d.Access.Editors, who) || slices.Contains(d.Access.Viewers, who)
}
