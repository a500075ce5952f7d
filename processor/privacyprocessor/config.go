package privacyprocessor // import "github.com/pulse-otel/pulse/processor/privacyprocessor"

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
)

// Config is the privacy processor's configuration. The defaults are a
// complete, documented policy (README.md); most users only set the key.
type Config struct {
	Consent      ConsentConfig      `mapstructure:"consent"`
	Pseudonymize PseudonymizeConfig `mapstructure:"pseudonymize"`
	IP           IPConfig           `mapstructure:"ip"`
	PII          PIIConfig          `mapstructure:"pii"`
	// Forget is the ID of a `forget` extension whose requests drop the
	// events of forgotten users. Empty disables right-to-be-forgotten.
	Forget component.ID `mapstructure:"forget"`
	// AuditAttributes adds pulse.privacy.* summary attributes to each record.
	AuditAttributes bool `mapstructure:"audit_attributes"`
	// Audit is the ID of an audit extension (auditextension). At start the
	// processor records the policy it runs (config.load: key id and a
	// fingerprint of the config without secrets) and, when the key id or
	// key changed since its last record, a key.rotate. Nil: not recorded.
	Audit *component.ID `mapstructure:"audit"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ConsentConfig maps the seed's consent levels to what each allows.
type ConsentConfig struct {
	// Attribute holds the record's consent level.
	Attribute string `mapstructure:"attribute"`
	// OnViolation is what happens to data beyond the record's consent:
	// "reduce" removes it and keeps the record, "drop" drops the record.
	OnViolation string `mapstructure:"on_violation"`
	// Levels is the policy per level: necessary, analytics, marketing, full.
	Levels map[string]LevelPolicy `mapstructure:"levels"`
	// Groups names sets of attribute key patterns that levels refer to. A
	// pattern is a key, a key prefix ending in "*", or a path into a map
	// attribute ("pulse.metadata.utm_*").
	Groups map[string][]string `mapstructure:"groups"`
}

// LevelPolicy is what one consent level allows.
type LevelPolicy struct {
	// EventTypes lists the pulse.event.type values allowed; empty allows all.
	EventTypes []string `mapstructure:"event_types"`
	// Categories lists the pulse.event.category values allowed; empty allows all.
	Categories []string `mapstructure:"categories"`
	// Identifiers lists the identifier attributes kept (pseudonymised);
	// the others are removed.
	Identifiers []string `mapstructure:"identifiers"`
	// Groups lists the attribute groups kept; attributes of other groups
	// are removed.
	Groups []string `mapstructure:"groups"`
}

// PseudonymizeConfig replaces identifiers by a keyed HMAC-SHA256.
type PseudonymizeConfig struct {
	// Attributes are the identifier attributes replaced.
	Attributes []string `mapstructure:"attributes"`
	// Key is the HMAC key, usually ${env:PULSE_PRIVACY_KEY}; at least 32 bytes.
	Key configopaque.String `mapstructure:"key"`
	// KeyFile is a file holding the key instead (trailing newline ignored).
	KeyFile string `mapstructure:"key_file"`
	// KeyID names the key; it is written to pulse.privacy.key_id so a
	// rotation is visible downstream.
	KeyID string `mapstructure:"key_id"`
	// Bytes is how much of the HMAC is kept, 16 (128 bits) to 32.
	Bytes int `mapstructure:"bytes"`
}

// IPConfig says what happens to IP address attributes.
type IPConfig struct {
	// Attributes hold IP addresses.
	Attributes []string `mapstructure:"attributes"`
	// Action is "truncate" (IPv4 to /24, IPv6 to /48) or "drop".
	Action string `mapstructure:"action"`
}

// PIIConfig drives detection and masking in string values.
type PIIConfig struct {
	// Actions maps a PII type (email, phone, credit_card, iban, ipv4, ipv6,
	// ssn, jwt, bearer_token, api_key, url_secret, mac_address, imei,
	// secret) to mask, hash,
	// drop_attribute or drop_event. Types not listed use DefaultAction;
	// "off" disables a type.
	Actions map[string]string `mapstructure:"actions"`
	// DefaultAction applies to types without an entry in Actions.
	DefaultAction string `mapstructure:"default_action"`
	// Custom are user-defined patterns (RE2) with their action.
	Custom []CustomPattern `mapstructure:"custom"`
	// SecretParams are query, fragment and parameter-list names whose
	// values are url_secret, beyond the built-in list (token, sid, otp,
	// reset_token, login_token, ...; see internal/pii/doc.go).
	SecretParams []string `mapstructure:"secret_params"`
	// SensitiveKeys are attribute key names that are PII whatever the value
	// (compared case-insensitively to the key's last dotted segment, with
	// '-' and '_' ignored), at any depth.
	SensitiveKeys []string `mapstructure:"sensitive_keys"`
	// SensitiveKeyAction is mask, hash, drop_attribute or drop_event.
	SensitiveKeyAction string `mapstructure:"sensitive_key_action"`
	// Skip lists attributes not scanned (enums and values Pulse sets).
	Skip []string `mapstructure:"skip"`
	// ScanBody scans string and map log bodies.
	ScanBody bool `mapstructure:"scan_body"`
	// ScanResource scans resource attributes.
	ScanResource bool `mapstructure:"scan_resource"`
}

// CustomPattern is a user-defined PII pattern.
type CustomPattern struct {
	Name   string `mapstructure:"name"`
	Regex  string `mapstructure:"regex"`
	Action string `mapstructure:"action"`
}

// Actions on detected PII.
const (
	actionMask          = "mask"
	actionHash          = "hash"
	actionDropAttribute = "drop_attribute"
	actionDropEvent     = "drop_event"
	actionOff           = "off"
)

var (
	piiActions     = []string{actionMask, actionHash, actionDropAttribute, actionDropEvent, actionOff}
	onViolations   = []string{"reduce", "drop"}
	ipActions      = []string{"truncate", "drop"}
	groupNameRegex = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

const (
	// maxIdentifiers leaves one bit of a uint64 for the forget key.
	maxIdentifiers = 63
	minKeyBytes    = 32
	minHMACSize    = 16
	maxHMACSize    = 32
)

// Validate checks the configuration; errors name the field and the value
// (never the key).
func (cfg *Config) Validate() error {
	var errs []error
	c := cfg.Consent
	if c.Attribute == "" {
		errs = append(errs, errors.New("consent.attribute: must not be empty"))
	}
	if !slices.Contains(onViolations, c.OnViolation) {
		errs = append(errs, fmt.Errorf("consent.on_violation: %q is not one of %s", c.OnViolation, strings.Join(onViolations, ", ")))
	}
	for _, level := range sortedKeys(c.Levels) {
		if !slices.Contains(schema.ConsentLevels, level) {
			errs = append(errs, fmt.Errorf("consent.levels: unknown level %q; levels are %s", level, strings.Join(schema.ConsentLevels, ", ")))
			continue
		}
		p := c.Levels[level]
		for _, g := range p.Groups {
			if _, ok := c.Groups[g]; !ok {
				errs = append(errs, fmt.Errorf("consent.levels.%s.groups: unknown group %q (define it under consent.groups)", level, g))
			}
		}
		for _, et := range p.EventTypes {
			if !slices.Contains(schema.EventTypes, et) {
				errs = append(errs, fmt.Errorf("consent.levels.%s.event_types: unknown event type %q", level, et))
			}
		}
	}
	for _, level := range schema.ConsentLevels {
		if _, ok := c.Levels[level]; !ok {
			errs = append(errs, fmt.Errorf("consent.levels: level %q is missing", level))
		}
	}
	for _, g := range sortedKeys(c.Groups) {
		if !groupNameRegex.MatchString(g) {
			errs = append(errs, fmt.Errorf("consent.groups: group name %q must match %s", g, groupNameRegex))
		}
		for _, p := range c.Groups[g] {
			if p == "" || p == "*" {
				errs = append(errs, fmt.Errorf("consent.groups.%s: pattern %q matches nothing or everything", g, p))
			}
		}
	}

	ps := cfg.Pseudonymize
	if len(ps.Attributes) > maxIdentifiers {
		errs = append(errs, fmt.Errorf("pseudonymize.attributes: at most %d attributes, got %d", maxIdentifiers, len(ps.Attributes)))
	}
	if len(ps.Attributes) > 0 {
		switch {
		case ps.Key != "" && ps.KeyFile != "":
			errs = append(errs, errors.New("pseudonymize: set key or key_file, not both"))
		case ps.Key == "" && ps.KeyFile == "":
			errs = append(errs, errors.New("pseudonymize.key: required (at least 32 bytes, e.g. ${env:PULSE_PRIVACY_KEY}) unless key_file is set"))
		case ps.Key != "" && len(ps.Key) < minKeyBytes:
			errs = append(errs, fmt.Errorf("pseudonymize.key: too short: %d bytes, need at least %d", len(ps.Key), minKeyBytes))
		}
		if ps.KeyID == "" {
			errs = append(errs, errors.New("pseudonymize.key_id: must not be empty"))
		}
	}
	if ps.Bytes < minHMACSize || ps.Bytes > maxHMACSize {
		errs = append(errs, fmt.Errorf("pseudonymize.bytes: must be between %d and %d, got %d", minHMACSize, maxHMACSize, ps.Bytes))
	}

	if !slices.Contains(ipActions, cfg.IP.Action) {
		errs = append(errs, fmt.Errorf("ip.action: %q is not one of %s", cfg.IP.Action, strings.Join(ipActions, ", ")))
	}

	p := cfg.PII
	if !slices.Contains(piiActions, p.DefaultAction) {
		errs = append(errs, fmt.Errorf("pii.default_action: %q is not one of %s", p.DefaultAction, strings.Join(piiActions, ", ")))
	}
	for _, name := range sortedKeys(p.Actions) {
		if _, err := pii.ParseType(name); err != nil || name == "custom" {
			errs = append(errs, fmt.Errorf("pii.actions: unknown PII type %q", name))
		}
		if a := p.Actions[name]; !slices.Contains(piiActions, a) {
			errs = append(errs, fmt.Errorf("pii.actions.%s: %q is not one of %s", name, a, strings.Join(piiActions, ", ")))
		}
	}
	for i, cp := range p.Custom {
		if cp.Name == "" {
			errs = append(errs, fmt.Errorf("pii.custom[%d].name: must not be empty", i))
		}
		if _, err := regexp.Compile(cp.Regex); err != nil || cp.Regex == "" {
			errs = append(errs, fmt.Errorf("pii.custom[%d].regex: not a valid RE2 expression: %q", i, cp.Regex))
		} else if regexp.MustCompile(cp.Regex).MatchString("") {
			errs = append(errs, fmt.Errorf("pii.custom[%d].regex: %q matches the empty string", i, cp.Regex))
		}
		if !slices.Contains(piiActions, cp.Action) || cp.Action == actionOff {
			errs = append(errs, fmt.Errorf("pii.custom[%d].action: %q is not one of mask, hash, drop_attribute, drop_event", i, cp.Action))
		}
	}
	if _, err := pii.New(pii.Options{Types: []pii.Type{}, SecretParams: p.SecretParams}); err != nil {
		errs = append(errs, fmt.Errorf("pii.secret_params: %w", err))
	}
	if !slices.Contains(piiActions, p.SensitiveKeyAction) || p.SensitiveKeyAction == actionOff {
		errs = append(errs, fmt.Errorf("pii.sensitive_key_action: %q is not one of mask, hash, drop_attribute, drop_event", p.SensitiveKeyAction))
	}
	if len(ps.Attributes) == 0 && (usesHash(p) || p.SensitiveKeyAction == actionHash) {
		errs = append(errs, errors.New("pii: the hash action needs pseudonymize.key"))
	}
	return errors.Join(errs...)
}

func usesHash(p PIIConfig) bool {
	if p.DefaultAction == actionHash {
		return true
	}
	for _, a := range p.Actions {
		if a == actionHash {
			return true
		}
	}
	for _, c := range p.Custom {
		if c.Action == actionHash {
			return true
		}
	}
	return false
}

// loadKey returns the HMAC key from the config or its file.
func (ps PseudonymizeConfig) loadKey() ([]byte, error) {
	if ps.KeyFile == "" {
		return []byte(string(ps.Key)), nil
	}
	raw, err := os.ReadFile(ps.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("pseudonymize.key_file: %w", err)
	}
	key := []byte(strings.TrimRight(string(raw), "\r\n"))
	if len(key) < minKeyBytes {
		return nil, fmt.Errorf("pseudonymize.key_file %s: key too short: %d bytes, need at least %d", ps.KeyFile, len(key), minKeyBytes)
	}
	return key, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
