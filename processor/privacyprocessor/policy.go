package privacyprocessor

import (
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
)

type action uint8

const (
	actOff action = iota
	actMask
	actHash
	actDropAttr
	actDropEvent
)

func parseAction(s string) action {
	switch s {
	case actionMask:
		return actMask
	case actionHash:
		return actHash
	case actionDropAttribute:
		return actDropAttr
	case actionDropEvent:
		return actDropEvent
	}
	return actOff
}

// level is a compiled consent level.
type level struct {
	idx        int
	name       string
	eventTypes map[string]struct{} // nil allows all
	categories map[string]struct{} // nil allows all
	ids        uint64              // identifiers kept
	denied     uint64              // groups removed
}

func newPrivacyProcessor(set processor.Settings, cfg *Config) (*privacyProcessor, error) {
	p := &privacyProcessor{cfg: cfg, set: set, ipDrop: cfg.IP.Action == "drop", drop: cfg.Consent.OnViolation == "drop"}

	groupNames := sortedKeys(cfg.Consent.Groups)
	if len(groupNames) > 64 {
		return nil, fmt.Errorf("consent.groups: at most 64 groups, got %d", len(groupNames))
	}
	groups := make([][]string, len(groupNames))
	for i, g := range groupNames {
		groups[i] = cfg.Consent.Groups[g]
	}
	forgetKey := ""
	if cfg.Forget != (component.ID{}) {
		forgetKey = schema.AttrUserID
	}
	p.keys = newKeyTable(cfg.Consent.Attribute, cfg.Pseudonymize.Attributes, forgetKey, groups, cfg.IP.Attributes, cfg.PII.Skip, cfg.PII.SensitiveKeys)
	for i, name := range schema.ConsentLevels {
		pol := cfg.Consent.Levels[name]
		l := &level{idx: i, name: name}
		if len(pol.EventTypes) > 0 {
			l.eventTypes = setOf(pol.EventTypes)
		}
		if len(pol.Categories) > 0 {
			l.categories = setOf(pol.Categories)
		}
		for _, id := range pol.Identifiers {
			if j := slices.Index(cfg.Pseudonymize.Attributes, id); j >= 0 {
				l.ids |= 1 << j
			}
		}
		for g, gname := range groupNames {
			if !slices.Contains(pol.Groups, gname) {
				l.denied |= 1 << g
			}
		}
		p.levels = append(p.levels, l)
	}

	opts := pii.Options{}
	for _, t := range pii.AllTypes() {
		a := cfg.PII.DefaultAction
		if v, ok := cfg.PII.Actions[t.String()]; ok {
			a = v
		}
		p.typeAct[t] = parseAction(a)
		p.maskStr[t] = schema.RedactedMarker + ":" + t.String() + "]"
		if p.typeAct[t] != actOff {
			opts.Types = append(opts.Types, t)
		}
	}
	for _, c := range cfg.PII.Custom {
		opts.Custom = append(opts.Custom, pii.Pattern{Name: c.Name, Regex: c.Regex})
		p.custAct = append(p.custAct, parseAction(c.Action))
		p.custStr = append(p.custStr, schema.RedactedMarker+":"+c.Name+"]")
	}
	if len(opts.Types) == 0 {
		opts.Types = []pii.Type{} // none enabled; nil would mean all
	}
	opts.SecretParams = cfg.PII.SecretParams
	var err error
	if p.scanner, err = pii.New(opts); err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	opts.Types = slices.DeleteFunc(slices.Clone(opts.Types), func(t pii.Type) bool { return t == pii.IPv4 || t == pii.IPv6 })
	if p.verScanner, err = pii.New(opts); err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	p.sensAct = parseAction(cfg.PII.SensitiveKeyAction)

	if len(cfg.Pseudonymize.Attributes) > 0 || usesHash(cfg.PII) {
		key, err := cfg.Pseudonymize.loadKey()
		if err != nil {
			return nil, err
		}
		p.hasher = newHasher(key, cfg.Pseudonymize.Bytes)
	}
	if p.tel, err = newTelemetry(set.TelemetrySettings); err != nil {
		return nil, err
	}
	return p, nil
}

func setOf(vals []string) map[string]struct{} {
	m := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		m[v] = struct{}{}
	}
	return m
}
