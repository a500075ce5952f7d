package forgetextension

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/pulse-otel/pulse/extension/forgetextension/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

var configPath = filepath.Join("testdata", "config.yaml")

func TestLoadConfig(t *testing.T) {
	minimal := createDefaultConfig().(*Config)
	minimal.Key = "test-key-0123456789abcdef0123456789"

	storageID := component.MustNewIDWithName("file_storage", "forget")
	custom := createDefaultConfig().(*Config)
	custom.NetAddr.Endpoint = "0.0.0.0:9999"
	custom.MaxRequestBodySize = 4096
	custom.KeyFile = "/etc/pulse/forget.key"
	custom.Storage = &storageID
	custom.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("bearertokenauth")}})

	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: minimal},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
	)
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:4321", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(16<<10), cfg.MaxRequestBodySize)
	assert.Nil(t, cfg.Storage)
	// No key by default: the operator must give one.
	require.ErrorContains(t, cfg.Validate(), "key: must be set")
	cfg.Key = "0123456789abcdef0123456789abcdef"
	require.NoError(t, cfg.Validate())
	assert.Equal(t, metadata.Type, NewFactory().Type())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		want   []string
		secret string
	}{
		{
			name:   "bad_both",
			want:   []string{`key, key_file: set only one of them, got both (key_file "/etc/pulse/forget.key")`},
			secret: "both-secret-0123456789abcdef0123456789",
		},
		{name: "bad_none", want: []string{"key: must be set, usually to ${env:PULSE_FORGET_KEY}, unless key_file is set; got neither"}},
		{
			name:   "bad_short",
			want:   []string{"key: must be at least 32 bytes, got 18 bytes"},
			secret: "short-secret-value",
		},
		{
			name: "bad_many",
			want: []string{
				"endpoint: must not be empty",
				"max_request_body_size: must be at least 2048, got 100",
				"key: must be at least 32 bytes, got 11 bytes",
			},
			secret: "tiny-secret",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, tt.name), createDefaultConfig())
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			if tt.secret != "" {
				assert.NotContains(t, err.Error(), tt.secret, "the key leaked into the error")
			}
		})
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	secret := "file-secret-0123456789abcdef0123456789"
	require.NoError(t, os.WriteFile(good, []byte(secret+"\n"), 0o600))
	short := filepath.Join(dir, "short.key")
	require.NoError(t, os.WriteFile(short, []byte("short-file-secret\r\n"), 0o600))

	create := func(path string) (*forgetExtension, error) {
		cfg := createDefaultConfig().(*Config)
		cfg.KeyFile = path
		require.NoError(t, cfg.Validate())
		ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
		if err != nil {
			return nil, err
		}
		return ext.(*forgetExtension), nil
	}

	ext, err := create(good)
	require.NoError(t, err)
	assert.Equal(t, []byte(secret), ext.key, "the trailing line break is not part of the key")
	fromKey, err := newExtension(&Config{Key: configopaque.String(secret)}, extensiontest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	assert.Equal(t, fromKey.hasher.subject("u-1"), ext.hasher.subject("u-1"), "key and key_file give the same subjects")

	_, err = create(short)
	require.Error(t, err)
	assert.Equal(t, `key_file: the key in "`+short+`" must be at least 32 bytes, got 17 bytes`, err.Error())
	assert.NotContains(t, err.Error(), "short-file-secret")

	missing := filepath.Join(dir, "missing.key")
	_, err = create(missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key_file: reading "`+missing+`": `)
}
