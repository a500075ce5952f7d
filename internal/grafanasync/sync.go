package grafanasync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

// DefaultMessage is the version message of every dashboard sync saves.
const DefaultMessage = "pulsectl dashboards sync"

// maxPages bounds the folder and search listings (pageSize items a page).
const (
	maxPages = 100
	pageSize = 1000
)

// Options configure Sync.
type Options struct {
	URL   string // Grafana's base URL
	Token string // a service account token, sent as a Bearer token
	// Folder is the title of the folder the dashboards go to; its uid is
	// FolderUID(Folder). Default dashboards.Folder.
	Folder string
	// Users maps seed user ids to Grafana principals. Nil leaves the
	// permissions of dashboards and folder alone.
	Users *Users
	// DryRun reads Grafana and reports what would change, writing nothing.
	DryRun bool
	// Message is the version message; default DefaultMessage.
	Message string
	// Client defaults to an http.Client with DefaultTimeout.
	Client *http.Client
}

// Result is what Sync did (or, in a dry run, would do); uids are sorted.
type Result struct {
	FolderUID, FolderTitle             string
	FolderCreated, FolderPermissionSet bool
	Created, Updated, Unchanged        []string
	Deleted                            []string
	PermissionsSet                     []string // dashboards whose permissions were set
	PermissionsManaged, DryRun         bool
}

// Summary is the one-line count, e.g. "created 4, updated 0, unchanged 0,
// deleted 0, permissions set 4"; a dry run starts with "dry run, would
// have: ".
func (r Result) Summary() string {
	s := fmt.Sprintf("created %d, updated %d, unchanged %d, deleted %d, permissions set %d",
		len(r.Created), len(r.Updated), len(r.Unchanged), len(r.Deleted), len(r.PermissionsSet))
	if !r.PermissionsManaged {
		s += " (permissions not managed: no users file)"
	}
	if r.DryRun {
		s = "dry run, would have: " + s
	}
	return s
}

// Wrote reports whether Sync wrote anything (or would have, in a dry run).
func (r Result) Wrote() bool {
	return r.FolderCreated || r.FolderPermissionSet || len(r.Created)+len(r.Updated)+len(r.Deleted)+len(r.PermissionsSet) > 0
}

// Sync makes Grafana's folder hold exactly dbs (ReadDir), with their
// permissions when o.Users is set. It resolves every seed user id before
// writing anything, so an unknown one changes nothing.
func Sync(ctx context.Context, o Options, dbs []Dashboard) (Result, error) {
	if o.Folder == "" {
		o.Folder = dashboards.Folder
	}
	if o.Message == "" {
		o.Message = DefaultMessage
	}
	c, err := newClient(o.URL, o.Token, o.Client)
	if err != nil {
		return Result{}, err
	}
	res := Result{FolderUID: FolderUID(o.Folder), FolderTitle: o.Folder, DryRun: o.DryRun, PermissionsManaged: o.Users != nil}
	perms := map[string][]Item{}
	if o.Users != nil {
		r := &resolver{c: c, users: o.Users, cache: map[Principal]Item{}}
		for _, d := range dbs {
			if perms[d.UID], err = wantPermissions(ctx, r, d); err != nil {
				return res, err
			}
		}
	}
	s := &syncer{c: c, o: o, res: &res}
	folderExists, err := s.folder(ctx)
	if err != nil {
		return res, err
	}
	for _, d := range dbs {
		if err := s.dashboard(ctx, d, perms[d.UID]); err != nil {
			return res, err
		}
	}
	if folderExists {
		if err := s.removeStale(ctx, dbs); err != nil {
			return res, err
		}
	}
	for _, l := range [][]string{res.Created, res.Updated, res.Unchanged, res.Deleted, res.PermissionsSet} {
		slices.Sort(l)
	}
	return res, nil
}

type syncer struct {
	c   *client
	o   Options
	res *Result
}

// folder finds or creates the folder and sets its permissions; it reports
// whether the folder existed before.
func (s *syncer) folder(ctx context.Context) (bool, error) {
	uid := s.res.FolderUID
	exists := false
	for page := 1; page <= maxPages; page++ {
		var fs []struct{ UID, Title string }
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "page": {strconv.Itoa(page)}}
		if _, err := s.c.do(ctx, http.MethodGet, "/api/folders", q, nil, &fs, http.StatusOK); err != nil {
			return false, fmt.Errorf("folder %s: %w", s.o.Folder, err)
		}
		for _, f := range fs {
			switch {
			case f.UID == uid:
				exists = true
			case f.Title == s.o.Folder:
				return false, fmt.Errorf("folder %s: Grafana has a folder of that title with uid %q, not %q; pass another --folder or rename that folder", s.o.Folder, f.UID, uid)
			}
		}
		if exists || len(fs) < pageSize {
			break
		}
	}
	if !exists {
		s.res.FolderCreated = true
		if !s.o.DryRun {
			body := map[string]string{"uid": uid, "title": s.o.Folder}
			if _, err := s.c.do(ctx, http.MethodPost, "/api/folders", nil, body, nil, http.StatusOK); err != nil {
				return false, fmt.Errorf("creating folder %s: %w", s.o.Folder, err)
			}
		}
	}
	if s.o.Users != nil {
		// The folder grants nothing itself: its dashboards' own items decide.
		set, err := setPermissions(ctx, s.c, "/api/folders/"+uid+"/permissions", []Item{}, exists, s.o.DryRun)
		if err != nil {
			return false, fmt.Errorf("folder %s: %w", s.o.Folder, err)
		}
		s.res.FolderPermissionSet = set
	}
	return exists, nil
}

// current is the part of GET /api/dashboards/uid/:uid sync reads.
type current struct {
	Dashboard struct {
		Tags    []string `json:"tags"`
		Version int      `json:"version"`
	} `json:"dashboard"`
	Meta struct {
		FolderUID   string `json:"folderUid"`
		Provisioned bool   `json:"provisioned"`
	} `json:"meta"`
}

func marker(tags []string) (string, bool) {
	for _, t := range tags {
		if h, ok := strings.CutPrefix(t, MarkerPrefix); ok {
			return h, true
		}
	}
	return "", false
}

func (s *syncer) dashboard(ctx context.Context, d Dashboard, perms []Item) error {
	path := "/api/dashboards/uid/" + d.UID
	var cur current
	// A dashboard of this uid in another folder is found as well, and moved
	// by the update.
	code, err := s.c.do(ctx, http.MethodGet, path, nil, nil, &cur, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	exists := code == http.StatusOK
	if exists {
		hash, managed := marker(cur.Dashboard.Tags)
		switch {
		case cur.Meta.Provisioned:
			return fmt.Errorf("dashboard %s: Grafana provisions it from files; it cannot be saved through the API: drop the file provisioning of it, or do not sync it", d.UID)
		case !managed:
			return fmt.Errorf("dashboard %s: exists in Grafana without the %s tag, so sync does not manage it and leaves it alone: delete it in Grafana or change the definition's dashboardId", d.UID, MarkerPrefix+"…")
		case hash == d.Hash && cur.Meta.FolderUID == s.res.FolderUID:
			s.res.Unchanged = append(s.res.Unchanged, d.UID)
		default:
			if err := s.save(ctx, d, cur.Dashboard.Version); err != nil {
				return err
			}
			s.res.Updated = append(s.res.Updated, d.UID)
		}
	} else {
		if err := s.save(ctx, d, 0); err != nil {
			return err
		}
		s.res.Created = append(s.res.Created, d.UID)
	}
	if s.o.Users == nil {
		return nil
	}
	set, err := setPermissions(ctx, s.c, path+"/permissions", perms, exists, s.o.DryRun)
	if err != nil {
		return fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	if set {
		s.res.PermissionsSet = append(s.res.PermissionsSet, d.UID)
	}
	return nil
}

// save creates (version 0) or updates the dashboard, with overwrite false
// so that Grafana refuses instead of replacing what changed meanwhile.
func (s *syncer) save(ctx context.Context, d Dashboard, version int) error {
	if s.o.DryRun {
		return nil
	}
	body := map[string]any{
		"dashboard": d.model(version),
		"folderUid": s.res.FolderUID,
		"overwrite": false,
		"message":   s.o.Message,
	}
	_, err := s.c.do(ctx, http.MethodPost, "/api/dashboards/db", nil, body, nil, http.StatusOK)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusPreconditionFailed {
		switch ae.Status {
		case "version-mismatch":
			return fmt.Errorf("dashboard %s: someone saved it in Grafana while sync ran (version-mismatch); run sync again: %w", d.UID, err)
		case "name-exists":
			return fmt.Errorf("dashboard %s: folder %s already holds another dashboard titled %q (name-exists); rename one of them: %w", d.UID, s.o.Folder, d.Title, err)
		case "plugin-dashboard":
			return fmt.Errorf("dashboard %s: a plugin provides a dashboard of this uid (plugin-dashboard): %w", d.UID, err)
		}
	}
	if err != nil {
		return fmt.Errorf("dashboard %s: saving: %w", d.UID, err)
	}
	return nil
}

// removeStale deletes the dashboards of the folder that carry the pulse
// tag and the marker and are not in dbs.
func (s *syncer) removeStale(ctx context.Context, dbs []Dashboard) error {
	want := map[string]bool{}
	for _, d := range dbs {
		want[d.UID] = true
	}
	var stale []string
	for page := 1; page <= maxPages; page++ {
		var hits []struct {
			UID  string   `json:"uid"`
			Type string   `json:"type"`
			Tags []string `json:"tags"`
		}
		q := url.Values{"folderUIDs": {s.res.FolderUID}, "type": {"dash-db"}, "tag": {dashboards.PulseTag}, "limit": {strconv.Itoa(pageSize)}, "page": {strconv.Itoa(page)}}
		if _, err := s.c.do(ctx, http.MethodGet, "/api/search", q, nil, &hits, http.StatusOK); err != nil {
			return fmt.Errorf("listing folder %s: %w", s.o.Folder, err)
		}
		for _, h := range hits {
			_, managed := marker(h.Tags)
			if h.Type == "dash-db" && managed && slices.Contains(h.Tags, dashboards.PulseTag) && !want[h.UID] {
				stale = append(stale, h.UID)
			}
		}
		if len(hits) < pageSize {
			break
		}
	}
	for _, uid := range stale {
		if !s.o.DryRun {
			_, err := s.c.do(ctx, http.MethodDelete, "/api/dashboards/uid/"+uid, nil, nil, nil, http.StatusOK, http.StatusNotFound)
			if err != nil {
				return fmt.Errorf("dashboard %s: deleting: %w", uid, err)
			}
		}
		s.res.Deleted = append(s.res.Deleted, uid)
	}
	return nil
}
