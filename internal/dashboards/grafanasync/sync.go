// Package grafanasync makes a Grafana folder hold exactly the compiled
// dashboards, through Grafana's documented HTTP API: the folder is created
// when missing, a dashboard is written only when it differs from Grafana's
// copy, its permissions are set from the definition's owner, editors,
// viewers and isPublic only when they differ, and dashboards of the folder
// tagged "pulse" that are no longer defined are deleted. A second run with
// the same input writes nothing.
package grafanasync // import "github.com/pulse-otel/pulse/internal/dashboards/grafanasync"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

// DefaultTimeout bounds each HTTP request.
const DefaultTimeout = 30 * time.Second

// Grafana's dashboard permission levels.
const (
	View  = 1
	Edit  = 2
	Admin = 4
)

// Principal is the Grafana user (by login or email) or team (by name) a
// seed user id stands for; exactly one is set.
type Principal struct {
	User string `yaml:"user"`
	Team string `yaml:"team"`
}

// Client talks to one Grafana.
type Client struct {
	URL   string // base URL, e.g. http://localhost:3000
	Token string // service account token, sent as a bearer token
	HTTP  *http.Client
}

// Dashboard is one compiled dashboard to sync.
type Dashboard struct {
	JSON []byte
	Meta dashboards.MetaEntry
}

// Sync makes the folder dashboards.Folder (uid "pulse") hold exactly ds,
// with permissions resolved through principals (seed user id ▶ Grafana
// user or team). It returns what it changed, one line per change.
func (c *Client) Sync(ctx context.Context, ds []Dashboard, principals map[string]Principal) ([]string, error) {
	var changes []string
	if err := c.ensureFolder(ctx, &changes); err != nil {
		return changes, err
	}
	want := map[string]bool{}
	for _, d := range ds {
		uid := d.Meta.UID
		want[uid] = true
		if err := c.syncDashboard(ctx, d, &changes); err != nil {
			return changes, fmt.Errorf("dashboard %s: %w", uid, err)
		}
		if err := c.syncPermissions(ctx, d.Meta, principals, &changes); err != nil {
			return changes, fmt.Errorf("dashboard %s: permissions: %w", uid, err)
		}
	}
	var found []struct {
		UID  string   `json:"uid"`
		Tags []string `json:"tags"`
	}
	q := url.Values{"type": {"dash-db"}, "folderUIDs": {folderUID}, "tag": {dashboards.PulseTag}}
	if _, err := c.do(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &found); err != nil {
		return changes, fmt.Errorf("search: %w", err)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].UID < found[j].UID })
	for _, f := range found {
		if want[f.UID] || !slices.Contains(f.Tags, dashboards.PulseTag) {
			continue
		}
		if _, err := c.do(ctx, http.MethodDelete, "/api/dashboards/uid/"+url.PathEscape(f.UID), nil, nil); err != nil {
			return changes, fmt.Errorf("dashboard %s: delete: %w", f.UID, err)
		}
		changes = append(changes, "deleted dashboard "+f.UID)
	}
	return changes, nil
}

const folderUID = "pulse"

func (c *Client) ensureFolder(ctx context.Context, changes *[]string) error {
	status, err := c.do(ctx, http.MethodGet, "/api/folders/"+folderUID, nil, nil)
	if status == http.StatusNotFound {
		body := map[string]string{"uid": folderUID, "title": dashboards.Folder}
		if _, err := c.do(ctx, http.MethodPost, "/api/folders", body, nil); err != nil {
			return fmt.Errorf("create folder: %w", err)
		}
		*changes = append(*changes, "created folder "+dashboards.Folder)
		return nil
	}
	if err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	return nil
}

// volatile are the fields Grafana sets on a stored dashboard.
var volatile = []string{"id", "version"}

func (c *Client) syncDashboard(ctx context.Context, d Dashboard, changes *[]string) error {
	var want map[string]any
	if err := json.Unmarshal(d.JSON, &want); err != nil {
		return err
	}
	var got struct {
		Dashboard map[string]any `json:"dashboard"`
		Meta      struct {
			FolderUID string `json:"folderUid"`
		} `json:"meta"`
	}
	status, err := c.do(ctx, http.MethodGet, "/api/dashboards/uid/"+url.PathEscape(d.Meta.UID), nil, &got)
	verb := "created"
	switch {
	case status == http.StatusNotFound:
	case err != nil:
		return err
	default:
		for _, k := range volatile {
			delete(got.Dashboard, k)
		}
		if got.Meta.FolderUID == folderUID && reflect.DeepEqual(got.Dashboard, want) {
			return nil
		}
		verb = "updated"
	}
	body := map[string]any{"dashboard": want, "folderUid": folderUID, "overwrite": true, "message": "pulsectl dashboards sync"}
	if _, err := c.do(ctx, http.MethodPost, "/api/dashboards/db", body, nil); err != nil {
		return err
	}
	*changes = append(*changes, verb+" dashboard "+d.Meta.UID)
	return nil
}

// permission is one item of Grafana's dashboard permission list.
type permission struct {
	UserID     int64  `json:"userId,omitempty"`
	TeamID     int64  `json:"teamId,omitempty"`
	Role       string `json:"role,omitempty"`
	Permission int    `json:"permission"`
}

func (c *Client) syncPermissions(ctx context.Context, m dashboards.MetaEntry, principals map[string]Principal, changes *[]string) error {
	levels := map[string]int{}
	var order []string
	grant := func(ids []string, level int) {
		for _, id := range ids {
			if _, ok := levels[id]; !ok {
				order = append(order, id)
			}
			levels[id] = max(levels[id], level)
		}
	}
	if m.Owner != "" {
		grant([]string{m.Owner}, Admin)
	}
	grant(m.Editors, Edit)
	grant(m.Viewers, View)
	var want []permission
	for _, id := range order {
		p, ok := principals[id]
		if !ok {
			return fmt.Errorf("seed user %q has no Grafana user or team in the principals file", id)
		}
		item, err := c.resolve(ctx, id, p)
		if err != nil {
			return err
		}
		item.Permission = levels[id]
		want = append(want, item)
	}
	if m.IsPublic {
		want = append(want, permission{Role: "Viewer", Permission: View})
	}
	var got []struct {
		permission
		Inherited bool `json:"inherited"`
	}
	path := "/api/dashboards/uid/" + url.PathEscape(m.UID) + "/permissions"
	if _, err := c.do(ctx, http.MethodGet, path, nil, &got); err != nil {
		return err
	}
	var have []permission
	for _, g := range got {
		if !g.Inherited {
			have = append(have, g.permission)
		}
	}
	if samePermissions(have, want) {
		return nil
	}
	if _, err := c.do(ctx, http.MethodPost, path, map[string]any{"items": want}, nil); err != nil {
		return err
	}
	*changes = append(*changes, "set permissions of dashboard "+m.UID)
	return nil
}

func samePermissions(a, b []permission) bool {
	key := func(ps []permission) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = fmt.Sprintf("%d/%d/%s/%d", p.UserID, p.TeamID, p.Role, p.Permission)
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func (c *Client) resolve(ctx context.Context, id string, p Principal) (permission, error) {
	switch {
	case p.User != "" && p.Team == "":
		var u struct {
			ID int64 `json:"id"`
		}
		if _, err := c.do(ctx, http.MethodGet, "/api/users/lookup?"+url.Values{"loginOrEmail": {p.User}}.Encode(), nil, &u); err != nil {
			return permission{}, fmt.Errorf("seed user %q: Grafana user lookup: %w", id, err)
		}
		return permission{UserID: u.ID}, nil
	case p.Team != "" && p.User == "":
		var r struct {
			Teams []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"teams"`
		}
		if _, err := c.do(ctx, http.MethodGet, "/api/teams/search?"+url.Values{"name": {p.Team}}.Encode(), nil, &r); err != nil {
			return permission{}, fmt.Errorf("seed user %q: Grafana team search: %w", id, err)
		}
		for _, t := range r.Teams {
			if t.Name == p.Team {
				return permission{TeamID: t.ID}, nil
			}
		}
		return permission{}, fmt.Errorf("seed user %q: no Grafana team named %q", id, p.Team)
	}
	return permission{}, fmt.Errorf("seed user %q: give exactly one of user and team", id)
}

// StatusError is a Grafana answer outside 2xx.
type StatusError struct {
	Method, Path string
	Code         int
	Message      string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Message)
}

// do sends one request (body as JSON when not nil) and decodes a 2xx
// answer into out when not nil. It returns the status code, and a
// *StatusError for non-2xx answers.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &m) // the message is optional; the status says enough
		return resp.StatusCode, &StatusError{Method: method, Path: path, Code: resp.StatusCode, Message: m.Message}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
