package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/client"

	"github.com/pulse-otel/pulse/internal/audit"
)

// requester is who sent a forget request, as the audit log names them:
// pseudonyms and roles only.
type requester struct {
	actor  string // "oidc:<hmac of the token's subject>", "admin-token", "anonymous"
	source string // "client:<hmac of the remote IP>"
}

// Outcomes of a forget request in the audit log (details.outcome).
const (
	outcomeNew        = "new"         // the first request for this subject: applied
	outcomeRepeated   = "repeated"    // the subject was forgotten already: the original request stands
	outcomeNotApplied = "not_applied" // recorded as new, then publishing or storing failed: answered 503
)

// Actors that name no person.
const (
	actorAdminToken = "admin-token" // a caller the server's auth extension let in without naming them (bearertokenauth)
	actorAnonymous  = "anonymous"   // the API has no auth configured
	actorInternal   = "forget"      // a call from inside the extension, not through the API
)

// requesterOf names the caller of req. The OIDC subject and the remote IP
// are hashed with the forget key (the subject's 16-hex-digit prefix, as
// in logs); the raw token, subject and address are never recorded.
func (e *forgetExtension) requesterOf(req *http.Request) requester {
	who := requester{actor: actorAnonymous}
	if e.cfg.Auth.HasValue() {
		who.actor = actorAdminToken
	}
	if info := client.FromContext(req.Context()); info.Auth != nil {
		if sub, ok := info.Auth.GetAttribute("subject").(string); ok && sub != "" {
			who.actor = "oidc:" + e.hasher.subject(sub).prefix()
		}
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	if host != "" {
		who.source = "client:" + e.hasher.subject(host).prefix()
	}
	return who
}

// errAudit is a failure to record a request in the audit log: the request
// is not applied (503).
type errAudit struct{ err error }

func (e errAudit) Error() string { return "audit: " + e.err.Error() }
func (e errAudit) Unwrap() error { return e.err }

// record appends the request to the audit log, when there is one.
func (e *forgetExtension) record(ctx context.Context, who requester, r record, outcome string) error {
	if e.audit == nil {
		return nil
	}
	if who.actor == "" {
		who.actor = actorInternal
	}
	_, err := e.audit.Append(ctx, audit.Entry{
		Action: audit.ActionForget,
		Actor:  who.actor,
		Source: who.source,
		Object: r.subject.prefix(),
		Details: map[string]string{
			"request_id": r.id.String(),
			"effective":  r.receivedAt.Format(time.RFC3339),
			"outcome":    outcome,
			"replicated": strconv.FormatBool(e.cfg.Sync.Kafka.HasValue()),
			"persisted":  strconv.FormatBool(e.cfg.Storage != nil),
			"extension":  e.set.ID.String(),
		},
	})
	if err != nil {
		return errAudit{err}
	}
	return nil
}
