// Package grafanatest is an in-memory stand-in for Grafana's HTTP API, for
// tests of grafanasync and pulsectl: no Grafana server can be installed
// where Pulse's tests run. It follows the endpoints, request shapes, answers
// and status codes of Grafana's documented API (folders, dashboards by uid,
// dashboard and folder permissions, search, user and team lookup), keeps
// state (folders, dashboards with versions, permissions) and checks the
// Authorization: Bearer header of every request.
package grafanatest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Request is one request the server received.
type Request struct {
	Method, Path, Query string
	Body                []byte
}

// Item is a permission item as the server stores it.
type Item struct {
	UserID     int64  `json:"userId,omitempty"`
	TeamID     int64  `json:"teamId,omitempty"`
	Role       string `json:"role,omitempty"`
	Permission int    `json:"permission"`
}

type folder struct {
	id         int64
	uid, title string
	perms      []Item
}

// Dashboard is a stored dashboard.
type Dashboard struct {
	ID          int64
	FolderUID   string
	Version     int
	Model       map[string]any
	Perms       []Item
	Provisioned bool
}

type failure struct {
	status int
	body   string
}

type principal struct {
	id           int64
	login, email string
}

// Server is the fake Grafana. Its zero value is not usable: call New.
type Server struct {
	*httptest.Server
	Token string
	// ServerAdmin says whether the token may call GET /api/users/lookup;
	// when false (a service account) it answers 403, as Grafana does.
	ServerAdmin bool
	// ServiceAccountID is the user id Grafana gives the creator Admin on
	// the folders and dashboards it creates.
	ServiceAccountID int64
	// SavedMeanwhile, when set to a uid, makes the next POST
	// /api/dashboards/db find that dashboard saved once more (its version
	// up) since it was read, as when a user saves it during a sync.
	SavedMeanwhile string

	mu       sync.Mutex
	nextID   int64
	folders  map[string]*folder
	dashes   map[string]*Dashboard
	users    []principal
	teams    map[string]int64
	requests []Request
	failures map[string]failure
}

// New starts a fake Grafana that accepts token; it is closed when t ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		Token: token, ServerAdmin: true, ServiceAccountID: 900, nextID: 1,
		folders: map[string]*folder{}, dashes: map[string]*Dashboard{}, teams: map[string]int64{}, failures: map[string]failure{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/folders", s.listFolders)
	mux.HandleFunc("POST /api/folders", s.createFolder)
	mux.HandleFunc("GET /api/folders/{uid}/permissions", s.getPerms(true))
	mux.HandleFunc("POST /api/folders/{uid}/permissions", s.setPerms(true))
	mux.HandleFunc("GET /api/dashboards/uid/{uid}", s.getDashboard)
	mux.HandleFunc("DELETE /api/dashboards/uid/{uid}", s.deleteDashboard)
	mux.HandleFunc("GET /api/dashboards/uid/{uid}/permissions", s.getPerms(false))
	mux.HandleFunc("POST /api/dashboards/uid/{uid}/permissions", s.setPerms(false))
	mux.HandleFunc("POST /api/dashboards/db", s.saveDashboard)
	mux.HandleFunc("GET /api/search", s.search)
	mux.HandleFunc("GET /api/users/lookup", s.lookupUser)
	mux.HandleFunc("GET /api/org/users/lookup", s.lookupOrgUser)
	mux.HandleFunc("GET /api/teams/search", s.searchTeams)
	s.Server = httptest.NewServer(s.wrap(mux))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
		f, failing := s.failures[r.Method+" "+r.URL.Path]
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			reply(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		if failing {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.body)
			return
		}
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			reply(w, http.StatusBadRequest, map[string]string{"message": "bad request data"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func msg(w http.ResponseWriter, status int, m string) {
	reply(w, status, map[string]string{"message": m})
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

// Fail makes every request of method to path answer status with body
// until Unfail.
func (s *Server) Fail(method, path string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method+" "+path] = failure{status, body}
}

// Unfail undoes Fail.
func (s *Server) Unfail(method, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, method+" "+path)
}

// Requests returns the requests received so far and forgets them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests
	s.requests = nil
	return r
}

// AddUser adds an organization user and returns its id.
func (s *Server) AddUser(login, email string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id()
	s.users = append(s.users, principal{id, login, email})
	return id
}

// AddTeam adds a team and returns its id.
func (s *Server) AddTeam(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id()
	s.teams[name] = id
	return id
}

// AddFolder adds a folder with Grafana's default permissions.
func (s *Server) AddFolder(uid, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.folders[uid] = &folder{id: s.id(), uid: uid, title: title, perms: defaultFolderPerms()}
}

func defaultFolderPerms() []Item {
	return []Item{{Role: "Editor", Permission: 2}, {Role: "Viewer", Permission: 1}}
}

// PutDashboard stores a dashboard as if saved from the UI (version 1).
func (s *Server) PutDashboard(folderUID string, model map[string]any, provisioned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, _ := model["uid"].(string)
	id := s.id()
	model["id"], model["version"] = id, 1
	s.dashes[uid] = &Dashboard{ID: id, FolderUID: folderUID, Version: 1, Model: model, Provisioned: provisioned}
}

// Dashboard returns a copy of the stored dashboard of uid.
func (s *Server) Dashboard(uid string) (Dashboard, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dashes[uid]
	if !ok {
		return Dashboard{}, false
	}
	c := *d
	c.Perms = slices.Clone(d.Perms)
	return c, true
}

// Dashboards returns the uids of the stored dashboards, sorted.
func (s *Server) Dashboards() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var uids []string
	for uid := range s.dashes {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	return uids
}

// FolderPerms returns the folder's own permission items.
func (s *Server) FolderPerms(uid string) ([]Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.folders[uid]
	if !ok {
		return nil, false
	}
	return slices.Clone(f.perms), true
}

func page(r *http.Request, n int) (lo, hi int) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 1000
	}
	p, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || p <= 0 {
		p = 1
	}
	lo, hi = min((p-1)*limit, n), min(p*limit, n)
	return lo, hi
}
