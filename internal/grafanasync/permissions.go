package grafanasync

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
)

// Permission levels of Grafana's permission API.
const (
	View  = 1
	Edit  = 2
	Admin = 4
)

// Item is one entry of Grafana's dashboard and folder permission API:
// exactly one of UserID, TeamID and Role is set.
type Item struct {
	UserID     int64  `json:"userId,omitempty"`
	TeamID     int64  `json:"teamId,omitempty"`
	Role       string `json:"role,omitempty"`
	Permission int    `json:"permission"`
}

func (a Item) less(b Item) int {
	return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.TeamID, b.TeamID), cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.Permission, b.Permission))
}

// wantPermissions returns the items for the sidecar's owner (Admin),
// editors (Edit), viewers (View) and isPublic (role Viewer, View), one per
// principal at its highest level, sorted.
func wantPermissions(ctx context.Context, r *resolver, d Dashboard) ([]Item, error) {
	best := map[Item]int{} // principal (Permission 0) -> level
	add := func(field string, level int, ids ...string) error {
		for _, id := range ids {
			if id == "" {
				continue
			}
			it, err := r.item(ctx, d.UID, field, id)
			if err != nil {
				return err
			}
			best[it] = max(best[it], level)
		}
		return nil
	}
	m := d.Meta
	if err := add("owner", Admin, m.Owner); err != nil {
		return nil, err
	}
	if err := add("editors", Edit, m.Editors...); err != nil {
		return nil, err
	}
	if err := add("viewers", View, m.Viewers...); err != nil {
		return nil, err
	}
	if m.IsPublic {
		best[Item{Role: "Viewer"}] = max(best[Item{Role: "Viewer"}], View)
	}
	items := make([]Item, 0, len(best))
	for it, level := range best {
		it.Permission = level
		items = append(items, it)
	}
	slices.SortFunc(items, Item.less)
	return items, nil
}

// currentPermissions GETs the items set on path itself (…/permissions),
// sorted. Inherited items (from the folder) and the Admin role, which
// Grafana always grants and which sync never sends, are left out.
func currentPermissions(ctx context.Context, c *client, path string) ([]Item, error) {
	var got []struct {
		Item
		Inherited bool `json:"inherited"`
	}
	if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &got, http.StatusOK); err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(got))
	for _, g := range got {
		if g.Inherited || g.Role == "Admin" || (g.UserID == 0 && g.TeamID == 0 && g.Role == "") {
			continue
		}
		items = append(items, g.Item)
	}
	slices.SortFunc(items, Item.less)
	return items, nil
}

// setPermissions makes path's own items want, POSTing only when they
// differ; a path that does not exist yet (exists false) is not read. It
// reports whether it POSTed (or, in a dry run, would have).
func setPermissions(ctx context.Context, c *client, path string, want []Item, exists, dryRun bool) (bool, error) {
	if exists {
		cur, err := currentPermissions(ctx, c, path)
		if err != nil {
			return false, err
		}
		if slices.Equal(cur, want) {
			return false, nil
		}
	}
	if dryRun {
		return true, nil
	}
	body := map[string]any{"items": want}
	if _, err := c.do(ctx, http.MethodPost, path, nil, body, nil, http.StatusOK); err != nil {
		return false, fmt.Errorf("setting permissions: %w", err)
	}
	return true, nil
}
