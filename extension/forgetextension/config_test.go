package forgetextension

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
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
	auditExt := component.MustNewID("audit")
	custom.Audit = &auditExt
	custom.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("bearertokenauth")}})

	synced := createDefaultConfig().(*Config)
	synced.Key = minimal.Key
	kc := defaultKafkaConfig()
	kc.Brokers = []string{"kafka-0:9092", "kafka-1:9092"}
	kc.ClientID = "gateway-1"
	synced.Sync.Kafka = configoptional.Some(kc)

	syncCustom := createDefaultConfig().(*Config)
	syncCustom.Key = minimal.Key
	kc = defaultKafkaConfig()
	kc.Brokers = []string{"localhost:9092"}
	kc.Topic = "erasure.requests"
	kc.StartTimeout = time.Minute
	kc.PublishTimeout = 2 * time.Second
	tls := configtls.NewDefaultClientConfig()
	tls.CAFile = "/etc/pulse/kafka-ca.pem"
	kc.TLS = &tls
	syncCustom.Sync.Kafka = configoptional.Some(kc)

	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: minimal},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "sync"), Expected: synced},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "sync_custom"), Expected: syncCustom},
	)
}

func TestTopicNames(t *testing.T) {
	assert.Empty(t, checkTopic("pulse-forget"))
	assert.Empty(t, checkTopic(strings.Repeat("a", 249)))
	assert.Equal(t, "must be at most 249 characters", checkTopic(strings.Repeat("a", 250)))
	assert.Equal(t, "must not be empty", checkTopic(""))
	assert.NotEmpty(t, checkTopic("é"))
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:4321", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(16<<10), cfg.MaxRequestBodySize)
	assert.Nil(t, cfg.Storage)
	assert.False(t, cfg.Sync.Kafka.HasValue(), "no sync unless configured")
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
		{
			name: "bad_sync",
			want: []string{
				`sync.kafka.brokers[0]: must be host:port, got "kafka-0"`,
				`sync.kafka.brokers[1]: must be host:port, got ":9092"`,
				`sync.kafka.brokers[2]: the port must be a number from 1 to 65535, got "kafka-1:0"`,
				`sync.kafka.brokers[3]: the port must be a number from 1 to 65535, got "kafka-2:http"`,
				`sync.kafka.topic: may hold only ASCII letters, digits, '.', '_' and '-', got "pulse forget"`,
				"sync.kafka.start_timeout: must be positive, got 0s",
				"sync.kafka.publish_timeout: must be positive, got -1s",
			},
		},
		{
			name: "bad_sync_none",
			want: []string{
				"sync.kafka.brokers: must list at least one host:port",
				`sync.kafka.topic: must not be "." or "..", got ".."`,
			},
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
