package privacyprocessor // import "github.com/pulse-otel/pulse/processor/privacyprocessor"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/internal/audit"
)

// keyCheckInput is hashed with the pseudonymisation key to tell keys apart
// in the audit log without recording them.
const keyCheckInput = "pulse.audit.key_check"

// startsRecorded holds the configs whose start is recorded: the collector
// builds one processor per pipeline from one *Config, and their start is
// one config load. A reload brings new *Config values and is recorded again.
var startsRecorded sync.Map // *Config -> struct{}

// recordStart appends config.load, and key.rotate before it when the key id
// or the key differs from this component's last config.load, to the audit
// log named by the audit setting. A failure fails the start: the policy in
// force must be on record.
func (p *privacyProcessor) recordStart(ctx context.Context, host component.Host) error {
	if p.cfg.Audit == nil {
		return nil
	}
	app, err := audit.FromHost(host, *p.cfg.Audit)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, done := startsRecorded.LoadOrStore(p.cfg, struct{}{}); done {
		return nil
	}
	if err := p.appendStart(ctx, app); err != nil {
		startsRecorded.Delete(p.cfg)
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (p *privacyProcessor) appendStart(ctx context.Context, app audit.Appender) error {
	id := p.set.ID.String()
	cur := map[string]string{"config_fingerprint": p.cfg.fingerprint()}
	if p.hasher != nil {
		cur["key_id"] = p.cfg.Pseudonymize.KeyID
		cur["key_check"] = p.hasher.compute(keyCheckInput)[:16]
	}
	if f, ok := app.(audit.Finder); ok && p.hasher != nil {
		last, found, err := f.Last(func(r audit.Record) bool {
			return r.Action == audit.ActionConfigLoad && r.Source == id && r.Details["key_id"] != ""
		})
		if err != nil {
			return err
		}
		if found && (last.Details["key_id"] != cur["key_id"] || last.Details["key_check"] != cur["key_check"]) {
			if _, err := app.Append(ctx, audit.Entry{
				Action: audit.ActionKeyRotation, Actor: id, Source: id, Object: id,
				Details: map[string]string{
					"old_key_id": last.Details["key_id"], "new_key_id": cur["key_id"],
					"old_key_check": last.Details["key_check"], "new_key_check": cur["key_check"],
					"since_seq": fmt.Sprint(last.Seq),
				},
			}); err != nil {
				return err
			}
		}
	}
	_, err := app.Append(ctx, audit.Entry{Action: audit.ActionConfigLoad, Actor: id, Source: id, Object: id, Details: cur})
	return err
}

// fingerprint is the first 16 hex digits of the sha256 of the config's JSON
// encoding without the key: the same policy gives the same fingerprint, a
// changed one another. The key file's path stays in, its content does not.
func (cfg *Config) fingerprint() string {
	c := *cfg
	c.Pseudonymize.Key = ""
	c.Audit = nil
	b, err := json.Marshal(c)
	if err != nil {
		return "unencodable"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
