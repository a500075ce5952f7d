// Package privacyprocessor enforces consent, pseudonymises identifiers,
// truncates IP addresses, detects and masks PII in every string it scans,
// drops the events of forgotten users and records what it did. After it, no
// raw personal data is left in a record. It works on any log record that
// follows docs/events.md, and on span and metric data point attributes.
package privacyprocessor // import "github.com/pulse-otel/pulse/processor/privacyprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

// NewFactory returns the factory of the privacy processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

// Default attribute groups: the parts of an event each consent level may
// keep. Attributes in no group are the event's core and always kept.
func defaultGroups() map[string][]string {
	return map[string][]string{
		"behavior": {"pulse.behavior.*", "pulse.page.*", "pulse.interaction.*", "pulse.engagement.*", "pulse.conversion.*"},
		"recommendation": {
			"pulse.recommendation.*", "pulse.response.*", "pulse.context.*", "pulse.model.*",
		},
		"device":    {schema.AttrUserAgent, "pulse.context.device_type"},
		"metadata":  {schema.AttrMetadata},
		"referrer":  {schema.AttrPageReferrer, "pulse.metadata.referrer", "pulse.metadata.referer", "http.request.header.referer"},
		"campaign":  {"pulse.metadata.utm_*", "pulse.metadata.campaign*", "pulse.metadata.gclid", "pulse.metadata.fbclid"},
		"channel":   {"pulse.metadata.channel", "pulse.metadata.source", "pulse.metadata.medium"},
		"geography": {"geo.*", "client.geo.*", "pulse.metadata.country", "pulse.metadata.region", "pulse.metadata.city", "pulse.metadata.geo*", "pulse.metadata.location"},
	}
}

func defaultLevels() map[string]LevelPolicy {
	ids := []string{schema.AttrUserID, schema.AttrDeviceID, schema.AttrSessionID}
	return map[string]LevelPolicy{
		// Strictly necessary: errors and performance, no identifiers.
		"necessary": {EventTypes: []string{"error_tracking", "system_performance"}},
		// Product analytics: every event type, pseudonymous identifiers,
		// behaviour details; nothing used for marketing.
		"analytics": {Identifiers: ids, Groups: []string{"behavior", "recommendation", "device", "metadata"}},
		// Marketing adds referrer, campaign, channel and geography.
		"marketing": {Identifiers: ids, Groups: []string{"behavior", "recommendation", "device", "metadata", "referrer", "campaign", "channel", "geography"}},
		"full":      {Identifiers: ids, Groups: []string{"behavior", "recommendation", "device", "metadata", "referrer", "campaign", "channel", "geography"}},
	}
}

// DefaultSensitiveKeys are key names that are PII whatever their value.
var DefaultSensitiveKeys = []string{
	"email", "e_mail", "mail", "phone", "phone_number", "mobile", "telephone", "tel", "fax",
	"name", "first_name", "last_name", "full_name", "surname", "given_name", "family_name", "username", "display_name",
	"address", "street", "street_address", "postal_code", "postcode", "zip", "zip_code",
	"ip", "ip_address", "password", "passwd", "pwd", "secret", "ssn", "social_security_number",
	"dob", "date_of_birth", "birthdate", "birthday", "credit_card", "card_number", "cc_number", "cvv", "iban",
	"national_id", "passport", "passport_number", "tax_id", "drivers_license",
}

func createDefaultConfig() component.Config {
	return &Config{
		Consent: ConsentConfig{
			Attribute:   schema.AttrConsentLevel,
			OnViolation: "reduce",
			Levels:      defaultLevels(),
			Groups:      defaultGroups(),
		},
		Pseudonymize: PseudonymizeConfig{
			Attributes: []string{schema.AttrUserID, schema.AttrDeviceID, schema.AttrSessionID},
			KeyID:      "k1",
			Bytes:      16,
		},
		IP: IPConfig{
			Attributes: []string{"client.address", "source.address", "network.peer.address", "http.client_ip", "pulse.metadata.ip"},
			Action:     "truncate",
		},
		PII: PIIConfig{
			DefaultAction:      actionMask,
			SensitiveKeys:      DefaultSensitiveKeys,
			SensitiveKeyAction: actionMask,
			Skip: []string{
				schema.AttrConsentLevel, schema.AttrEventType, schema.AttrProcessingStatus,
				schema.AttrIsValid, schema.AttrIsAnonymized, schema.AttrQualityScore, "pulse.privacy.*",
			},
			ScanBody:     true,
			ScanResource: true,
		},
		AuditAttributes: true,
	}
}

var processorCapabilities = consumer.Capabilities{MutatesData: true}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newPrivacyProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start))
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newPrivacyProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start))
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, err := newPrivacyProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start))
}
