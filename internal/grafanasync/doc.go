// Package grafanasync puts the output of `pulsectl dashboards compile` into
// a running Grafana through its HTTP API: a folder, one dashboard per
// compiled file and the dashboards' permissions, changing only what differs
// so that a second run writes nothing.
//
// Endpoints, and why each:
//
//   - GET /api/folders, POST /api/folders: find the folder by its stable uid
//     (derived from its title, "Pulse" is "pulse", as in the file
//     provisioning) and create it when missing.
//   - GET /api/dashboards/uid/:uid: the current dashboard, its version and
//     folder. Whether it changed is read from the marker tag
//     "pulse-sync:<hash>", a hash of the compiled JSON without id and
//     version: tags survive saves from the UI and come back in search hits,
//     so the same tag marks the dashboards sync manages.
//   - POST /api/dashboards/db with overwrite false and the version read
//     before: Grafana answers 412 version-mismatch when someone saved the
//     dashboard in between, and 412 name-exists instead of overwriting an
//     unmanaged dashboard of the same title (overwrite true would replace
//     it).
//   - GET and POST /api/dashboards/uid/:uid/permissions, GET and POST
//     /api/folders/:uid/permissions: the seed's owner (Admin), editors
//     (Edit), viewers (View) and isPublic (role Viewer, View). The folder
//     grants nothing of its own, or every dashboard would inherit its
//     default Viewer and Editor grants and isPublic false would mean
//     nothing. POST replaces the whole list, so it is sent only when the
//     non-inherited items differ.
//   - GET /api/users/lookup?loginOrEmail= (needs a Grafana server admin)
//     and, when that answers 403 as it does for service accounts,
//     GET /api/org/users/lookup?query=; GET /api/teams/search?name=: turn
//     the --users file's logins and team names into ids.
//   - GET /api/search?folderUIDs=&type=dash-db, DELETE
//     /api/dashboards/uid/:uid: remove the dashboards in the folder that
//     carry the pulse tag and the marker but are no longer compiled.
//     Dashboards without the marker are never changed or deleted.
//
// Every request carries Authorization: Bearer <token> (a service account
// token with the organization's Admin role), has a timeout, and reads at
// most MaxResponseBytes of the answer. Errors name the request, the
// dashboard and what Grafana's status code means, and never the token.
package grafanasync // import "github.com/pulse-otel/pulse/internal/grafanasync"
