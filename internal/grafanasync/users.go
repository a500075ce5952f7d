package grafanasync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Principal is whom a seed user id stands for in Grafana: a user, by login
// or email, or a team, by name. Exactly one is set.
type Principal struct {
	User string `yaml:"user,omitempty"`
	Team string `yaml:"team,omitempty"`
}

// Users maps the seed's user ids (owner, editors, viewers) to Grafana
// principals: the --users file, e.g.
//
//	admin: {user: admin}
//	u-1842: {user: dana@example.com}
//	analysts: {team: Analysts}
type Users struct {
	File string // for error messages
	IDs  map[string]Principal
}

// ReadUsers reads a users file. Unknown keys and entries with neither or
// both of user and team are errors naming the seed user id.
func ReadUsers(path string) (*Users, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	ids := map[string]Principal{}
	if err := dec.Decode(&ids); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w (want: seed user id: {user: LOGIN_OR_EMAIL} or {team: NAME})", path, err)
	}
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := ids[k]
		if (p.User == "") == (p.Team == "") {
			return nil, fmt.Errorf("%s: seed user %q: give exactly one of user (login or email) and team (name)", path, k)
		}
	}
	return &Users{File: path, IDs: ids}, nil
}

// resolver turns principals into permission items, asking Grafana once per
// principal.
type resolver struct {
	c     *client
	users *Users
	cache map[Principal]Item
}

// item returns the permission item for seed user id in dashboard uid's
// field (owner, editors or viewers), without the permission level.
func (r *resolver) item(ctx context.Context, uid, field, id string) (Item, error) {
	p, ok := r.users.IDs[id]
	if !ok {
		return Item{}, fmt.Errorf("dashboard %s: %s: seed user %q is not in the users file %s", uid, field, id, r.users.File)
	}
	if it, ok := r.cache[p]; ok {
		return it, nil
	}
	var it Item
	var err error
	if p.Team != "" {
		it.TeamID, err = r.team(ctx, p.Team)
	} else {
		it.UserID, err = r.user(ctx, p.User)
	}
	if err != nil {
		// The login, email or team name stays out of the message: it may be
		// personal data; the seed user id names the entry.
		return Item{}, fmt.Errorf("dashboard %s: %s: seed user %q (users file %s): %w", uid, field, id, r.users.File, err)
	}
	r.cache[p] = it
	return it, nil
}

func (r *resolver) user(ctx context.Context, loginOrEmail string) (int64, error) {
	var u struct {
		ID int64 `json:"id"`
	}
	code, err := r.c.do(ctx, http.MethodGet, "/api/users/lookup", url.Values{"loginOrEmail": {loginOrEmail}}, nil, &u, http.StatusOK, http.StatusNotFound, http.StatusForbidden)
	switch {
	case err != nil:
		return 0, err
	case code == http.StatusNotFound:
		return 0, errors.New("no Grafana user has that login or email")
	case code == http.StatusOK && u.ID > 0:
		return u.ID, nil
	}
	// 403: the global user lookup needs a server admin, which a service
	// account is not; the organization's lookup needs the Admin role only.
	var org []struct {
		UserID int64  `json:"userId"`
		Login  string `json:"login"`
		Email  string `json:"email"`
	}
	if _, err := r.c.do(ctx, http.MethodGet, "/api/org/users/lookup", url.Values{"query": {loginOrEmail}, "limit": {"100"}}, nil, &org, http.StatusOK); err != nil {
		return 0, err
	}
	for _, o := range org {
		if o.Login == loginOrEmail || strings.EqualFold(o.Email, loginOrEmail) {
			return o.UserID, nil
		}
	}
	return 0, errors.New("no user of the organization has that login or email")
}

func (r *resolver) team(ctx context.Context, name string) (int64, error) {
	var res struct {
		Teams []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"teams"`
	}
	if _, err := r.c.do(ctx, http.MethodGet, "/api/teams/search", url.Values{"name": {name}}, nil, &res, http.StatusOK); err != nil {
		return 0, err
	}
	for _, t := range res.Teams {
		if t.Name == name {
			return t.ID, nil
		}
	}
	return 0, errors.New("no Grafana team has that name")
}
