package grafanatest

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// The handlers run with s.mu held (see wrap).

func (s *Server) listFolders(w http.ResponseWriter, r *http.Request) {
	fs := make([]*folder, 0, len(s.folders))
	for _, f := range s.folders {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].title < fs[j].title })
	lo, hi := page(r, len(fs))
	out := []map[string]any{}
	for _, f := range fs[lo:hi] {
		out = append(out, map[string]any{"id": f.id, "uid": f.uid, "title": f.title})
	}
	reply(w, http.StatusOK, out)
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request) {
	var in struct{ UID, Title string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		msg(w, http.StatusBadRequest, "bad request data")
		return
	}
	if in.Title == "" {
		msg(w, http.StatusBadRequest, "folder title cannot be empty")
		return
	}
	for _, f := range s.folders {
		if f.title == in.Title || f.uid == in.UID {
			msg(w, http.StatusConflict, "a folder with the same name or uid already exists")
			return
		}
	}
	f := &folder{id: s.id(), uid: in.UID, title: in.Title, perms: append(defaultFolderPerms(), Item{UserID: s.ServiceAccountID, Permission: 4})}
	s.folders[in.UID] = f
	reply(w, http.StatusOK, map[string]any{"id": f.id, "uid": f.uid, "title": f.title, "url": "/dashboards/f/" + f.uid, "version": 1})
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dashes[r.PathValue("uid")]
	if !ok {
		msg(w, http.StatusNotFound, "Dashboard not found")
		return
	}
	meta := map[string]any{"slug": slug(d.Model), "folderUid": d.FolderUID, "version": d.Version, "provisioned": d.Provisioned, "canSave": true}
	if f, ok := s.folders[d.FolderUID]; ok {
		meta["folderTitle"] = f.title
	}
	reply(w, http.StatusOK, map[string]any{"dashboard": d.Model, "meta": meta})
}

func slug(m map[string]any) string {
	t, _ := m["title"].(string)
	return strings.ReplaceAll(strings.ToLower(t), " ", "-")
}

func (s *Server) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	d, ok := s.dashes[uid]
	if !ok {
		msg(w, http.StatusNotFound, "Dashboard not found")
		return
	}
	delete(s.dashes, uid)
	reply(w, http.StatusOK, map[string]any{"title": d.Model["title"], "message": "Dashboard deleted", "id": d.ID})
}

func (s *Server) saveDashboard(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		Overwrite bool           `json:"overwrite"`
		Message   string         `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Dashboard == nil {
		msg(w, http.StatusBadRequest, "bad request data")
		return
	}
	m := in.Dashboard
	title, _ := m["title"].(string)
	uid, _ := m["uid"].(string)
	switch {
	case strings.TrimSpace(title) == "":
		msg(w, http.StatusBadRequest, "Dashboard title cannot be empty")
		return
	case len(uid) > 40:
		msg(w, http.StatusBadRequest, "uid too long, max 40 characters")
		return
	case uid == "":
		msg(w, http.StatusBadRequest, "this fake needs a uid") // Grafana would generate one
		return
	}
	if _, ok := s.folders[in.FolderUID]; !ok && in.FolderUID != "" {
		msg(w, http.StatusBadRequest, "folder not found")
		return
	}
	version, _ := m["version"].(float64)
	old, exists := s.dashes[uid]
	if exists && s.SavedMeanwhile == uid {
		s.SavedMeanwhile = ""
		old.Version++
		old.Model["version"] = old.Version
	}
	if exists && old.Provisioned {
		msg(w, http.StatusBadRequest, "Cannot save provisioned dashboard")
		return
	}
	if exists && !in.Overwrite && int(version) != old.Version {
		reply(w, http.StatusPreconditionFailed, map[string]string{"status": "version-mismatch", "message": "The dashboard has been changed by someone else"})
		return
	}
	for u, d := range s.dashes {
		if u != uid && d.FolderUID == in.FolderUID && d.Model["title"] == title && !in.Overwrite {
			reply(w, http.StatusPreconditionFailed, map[string]string{"status": "name-exists", "message": "A dashboard with the same name in the folder already exists"})
			return
		}
	}
	d := &Dashboard{ID: s.id(), Version: 1, Perms: []Item{{UserID: s.ServiceAccountID, Permission: 4}}}
	if exists {
		d.ID, d.Version, d.Perms = old.ID, old.Version+1, old.Perms
	}
	d.FolderUID = in.FolderUID
	m["id"], m["version"] = d.ID, d.Version
	d.Model = m
	s.dashes[uid] = d
	reply(w, http.StatusOK, map[string]any{"id": d.ID, "uid": uid, "url": "/d/" + uid + "/" + slug(m), "status": "success", "version": d.Version, "slug": slug(m)})
}

type permOut struct {
	Item
	Inherited      bool   `json:"inherited"`
	PermissionName string `json:"permissionName"`
}

var permNames = map[int]string{1: "View", 2: "Edit", 4: "Admin"}

func (s *Server) getPerms(isFolder bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uid := r.PathValue("uid")
		var own, inherited []Item
		if isFolder {
			f, ok := s.folders[uid]
			if !ok {
				msg(w, http.StatusNotFound, "Folder not found")
				return
			}
			own = f.perms
		} else {
			d, ok := s.dashes[uid]
			if !ok {
				msg(w, http.StatusNotFound, "Dashboard not found")
				return
			}
			own = d.Perms
			if f, ok := s.folders[d.FolderUID]; ok {
				inherited = f.perms
			}
		}
		// Grafana lists the Admin role, which always has Admin, as well.
		out := []permOut{{Item: Item{Role: "Admin", Permission: 4}, PermissionName: "Admin"}}
		for _, it := range own {
			out = append(out, permOut{Item: it, PermissionName: permNames[it.Permission]})
		}
		for _, it := range inherited {
			out = append(out, permOut{Item: it, Inherited: true, PermissionName: permNames[it.Permission]})
		}
		reply(w, http.StatusOK, out)
	}
}

func (s *Server) setPerms(isFolder bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uid := r.PathValue("uid")
		var in struct {
			Items []Item `json:"items"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Items == nil {
			msg(w, http.StatusBadRequest, "bad request data")
			return
		}
		for _, it := range in.Items {
			set := 0
			for _, b := range []bool{it.UserID != 0, it.TeamID != 0, it.Role != ""} {
				if b {
					set++
				}
			}
			switch {
			case set != 1:
				msg(w, http.StatusBadRequest, "an item needs exactly one of userId, teamId and role")
				return
			case permNames[it.Permission] == "":
				msg(w, http.StatusBadRequest, "invalid permission")
				return
			case it.Role != "" && it.Role != "Viewer" && it.Role != "Editor":
				msg(w, http.StatusBadRequest, "invalid role")
				return
			case it.UserID != 0 && !s.hasUser(it.UserID):
				msg(w, http.StatusBadRequest, "user not found")
				return
			case it.TeamID != 0 && !s.hasTeam(it.TeamID):
				msg(w, http.StatusBadRequest, "team not found")
				return
			}
		}
		if isFolder {
			f, ok := s.folders[uid]
			if !ok {
				msg(w, http.StatusNotFound, "Folder not found")
				return
			}
			f.perms = in.Items
			msg(w, http.StatusOK, "Folder permissions updated")
			return
		}
		d, ok := s.dashes[uid]
		if !ok {
			msg(w, http.StatusNotFound, "Dashboard not found")
			return
		}
		d.Perms = in.Items
		msg(w, http.StatusOK, "Dashboard permissions updated")
	}
}

func (s *Server) hasUser(id int64) bool {
	if id == s.ServiceAccountID {
		return true
	}
	return slices.ContainsFunc(s.users, func(p principal) bool { return p.id == id })
}

func (s *Server) hasTeam(id int64) bool {
	for _, t := range s.teams {
		if t == id {
			return true
		}
	}
	return false
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	folders, tags := q["folderUIDs"], q["tag"]
	if t := q.Get("type"); t != "" && t != "dash-db" {
		reply(w, http.StatusOK, []any{})
		return
	}
	var hits []map[string]any
	for uid, d := range s.dashes {
		dtags := stringsOf(d.Model["tags"])
		if len(folders) > 0 && !slices.Contains(folders, d.FolderUID) {
			continue
		}
		if slices.ContainsFunc(tags, func(t string) bool { return !slices.Contains(dtags, t) }) {
			continue
		}
		hits = append(hits, map[string]any{"id": d.ID, "uid": uid, "title": d.Model["title"], "type": "dash-db", "tags": dtags, "folderUid": d.FolderUID, "url": "/d/" + uid})
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i]["uid"].(string) < hits[j]["uid"].(string) })
	lo, hi := page(r, len(hits))
	reply(w, http.StatusOK, append([]map[string]any{}, hits[lo:hi]...))
}

func stringsOf(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) lookupUser(w http.ResponseWriter, r *http.Request) {
	if !s.ServerAdmin {
		msg(w, http.StatusForbidden, "You'll need additional permissions to perform this action. Permissions needed: users:read")
		return
	}
	q := r.URL.Query().Get("loginOrEmail")
	for _, u := range s.users {
		if u.login == q || u.email == q {
			reply(w, http.StatusOK, map[string]any{"id": u.id, "login": u.login, "email": u.email})
			return
		}
	}
	msg(w, http.StatusNotFound, "user not found")
}

func (s *Server) lookupOrgUser(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("query")
	out := []map[string]any{}
	for _, u := range s.users {
		if strings.Contains(u.login, q) || strings.Contains(u.email, q) {
			out = append(out, map[string]any{"userId": u.id, "login": u.login, "email": u.email})
		}
	}
	reply(w, http.StatusOK, out)
}

func (s *Server) searchTeams(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	teams := []map[string]any{}
	if id, ok := s.teams[name]; ok {
		teams = append(teams, map[string]any{"id": id, "orgId": 1, "name": name, "memberCount": 0})
	}
	reply(w, http.StatusOK, map[string]any{"totalCount": len(teams), "teams": teams, "page": 1, "perPage": 1000})
}
