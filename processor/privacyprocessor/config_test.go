package privacyprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

const testKey = "0123456789abcdef0123456789abcdef"

func load(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	err := testutil.LoadConfig(t, filepath.Join("testdata", "config.yaml"), component.NewIDWithName(metadata.Type, name), cfg)
	return cfg, err
}

func TestLoadConfig(t *testing.T) {
	cfg, err := load(t, "")
	require.NoError(t, err)
	want := createDefaultConfig().(*Config)
	want.Pseudonymize.Key = testKey
	assert.Equal(t, want, cfg)

	cfg, err = load(t, "custom")
	require.NoError(t, err)
	assert.Equal(t, "drop", cfg.Consent.OnViolation)
	assert.Equal(t, "2026-11", cfg.Pseudonymize.KeyID)
	assert.Equal(t, 20, cfg.Pseudonymize.Bytes)
	assert.Equal(t, []string{"user.id"}, cfg.Pseudonymize.Attributes)
	assert.Equal(t, "drop", cfg.IP.Action)
	assert.Equal(t, "hash", cfg.PII.DefaultAction)
	assert.Equal(t, map[string]string{"credit_card": "drop_event", "ipv4": "off"}, cfg.PII.Actions)
	assert.Equal(t, []CustomPattern{{Name: "member_id", Regex: "MBR-[0-9]{8}", Action: "mask"}}, cfg.PII.Custom)
	assert.Equal(t, "drop_attribute", cfg.PII.SensitiveKeyAction)
	assert.Equal(t, component.MustNewID("forget"), cfg.Forget)
	assert.Equal(t, component.MustNewID("audit"), *cfg.Audit)
	assert.False(t, cfg.AuditAttributes)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"no_key", []string{"pseudonymize.key: required"}},
		{"short_key", []string{"pseudonymize.key: too short: 9 bytes, need at least 32"}},
		{"bad_actions", []string{
			`consent.on_violation: "ignore" is not one of reduce, drop`,
			`ip.action: "keep" is not one of truncate, drop`,
			`pii.default_action: "scramble" is not one of mask, hash, drop_attribute, drop_event, off`,
			`pii.actions: unknown PII type "emails"`,
			`pii.actions.phone: "explode" is not one of`,
			`pii.custom[0].name: must not be empty`,
			`pii.custom[0].regex: not a valid RE2 expression: "("`,
			`pii.custom[0].action: "off" is not one of`,
			`pii.sensitive_key_action: "off" is not one of`,
		}},
		{"bad_levels", []string{
			`consent.levels: unknown level "vip"`,
			`consent.levels.analytics.groups: unknown group "nosuch"`,
			`consent.levels.analytics.event_types: unknown event type "clicks"`,
			`pseudonymize.bytes: must be between 16 and 32, got 8`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.name)
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			assert.NotContains(t, err.Error(), testKey, "the key must never appear in an error")
			assert.NotContains(t, err.Error(), "too-short", "the key must never appear in an error")
		})
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.KeyFile = filepath.Join(dir, "missing")
	_, err := cfg.Pseudonymize.loadKey()
	require.ErrorContains(t, err, "pseudonymize.key_file")

	path := filepath.Join(dir, "key")
	require.NoError(t, writeFile(path, "short\n"))
	cfg.Pseudonymize.KeyFile = path
	_, err = cfg.Pseudonymize.loadKey()
	require.ErrorContains(t, err, "key too short: 5 bytes")
	assert.NotContains(t, err.Error(), "short\n")

	require.NoError(t, writeFile(path, testKey+"\n"))
	key, err := cfg.Pseudonymize.loadKey()
	require.NoError(t, err)
	assert.Equal(t, testKey, string(key))
}
