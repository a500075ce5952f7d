package userkeyprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

const (
	testTopic      = "pulse-events"
	testPartitions = 8
)

// gatewayExporter is the kafka exporter section of the gateway config
// (README.md), as a user writes it; brokers are filled in by the test.
var gatewayExporter = map[string]any{
	"sending_queue": map[string]any{"enabled": false},
	"logs": map[string]any{
		"topic":                         testTopic,
		"encoding":                      "otlp_proto",
		"message_key_from_metadata_key": DefaultMetadataKey,
	},
	"record_partitioner": map[string]any{"sticky_key": map[string]any{"hasher": "murmur2"}},
	"producer":           map[string]any{"required_acks": -1},
}

// TestKafkaExporter sends batches through processor ▶ the real contrib
// kafka exporter ▶ a kfake broker and reads the topic back: every record of
// one user is in one partition, a recommendation's response is in its
// partition, record keys are group numbers, and the partition is Kafka's
// murmur2 of the key.
func TestKafkaExporter(t *testing.T) {
	broker := kafkatest.Start(t, testPartitions, testTopic)

	f := kafkaexporter.NewFactory()
	cfg := f.CreateDefaultConfig()
	// kfake at the pinned revision parses ApiVersions up to v4 and closes
	// the connection on v5 (see internal/partstate): protocol_version pins
	// the exporter's client to Kafka 4.0's versions.
	section := map[string]any{"brokers": []any{broker.Addr}, "protocol_version": "4.0.0"}
	for k, v := range gatewayExporter {
		section[k] = v
	}
	require.NoError(t, confmap.NewFromStringMap(section).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	p := newTestProcessor(t, DefaultKeys, exp)
	rng := rand.New(rand.NewPCG(1, 2))
	sent := 0
	for range 10 {
		ld := gatewayBatch(rng, 100)
		sent += ld.LogRecordCount()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		require.NoError(t, p.ConsumeLogs(ctx, ld))
		cancel()
	}

	versions := kversion.Tip()
	versions.SetMaxKeyVersion(18, 4) // ApiVersions v4, as above
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr), kgo.MaxVersions(versions), kgo.ConsumeTopics(testTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var unmarshaler plog.ProtoUnmarshaler
	userAt := map[string]int32{}
	recAt := map[string]int32{}
	used := map[int32]bool{}
	got := 0
	for got < sent {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", got, sent)
		for _, e := range fs.Errors() {
			require.NoError(t, e.Err)
		}
		for _, r := range fs.Records() {
			used[r.Partition] = true
			key, err := strconv.Atoi(string(r.Key))
			require.NoError(t, err, "the record key is a group number")
			require.Less(t, key, DefaultKeys)
			assert.Equal(t, int32(kafkaMurmur2(r.Key)&0x7fffffff)%testPartitions, r.Partition, "key %s", r.Key)
			ld, err := unmarshaler.UnmarshalLogs(r.Value)
			require.NoError(t, err)
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						got++
						require.Equal(t, key, int(recordGroup(lr, DefaultKeys)))
						at := userAt
						id, _ := lr.Attributes().Get(schema.AttrUserID)
						if lr.EventName() != schema.EventAnalytics {
							at = recAt
							id, _ = lr.Attributes().Get(schema.AttrRecommendationID)
						}
						if id.Str() == "" {
							continue
						}
						if prev, ok := at[id.Str()]; ok {
							require.Equal(t, prev, r.Partition, "%s is in two partitions", id.Str())
						}
						at[id.Str()] = r.Partition
					}
				}
			}
		}
	}
	assert.Equal(t, sent, got, "every record once")
	assert.Len(t, userAt, 50)
	assert.Len(t, recAt, 20)
	assert.GreaterOrEqual(t, len(used), testPartitions-1, "groups spread over the partitions")
}

// gatewayBatch is n records as a gateway sees them after the privacy
// processor: 50 users, anonymous devices, recommendations and responses
// (answered by another user id than the one shown, as when the response
// comes from a logged-in session).
func gatewayBatch(rng *rand.Rand, n int) plog.Logs {
	b := newBatch()
	for range n {
		platform := []string{"web", "ios", "android"}[rng.IntN(3)]
		switch rng.IntN(10) {
		case 0:
			b.add(platform, schema.EventAnalytics, map[string]any{"device.id": fmt.Sprintf("d-%d", rng.IntN(30))})
		case 1:
			b.add(platform, schema.EventRecommendation, map[string]any{
				"user.id": fmt.Sprintf("u-%d", rng.IntN(50)), "pulse.recommendation.id": fmt.Sprintf("rec-%d", rng.IntN(20))})
		case 2:
			b.add(platform, schema.EventRecommendationResponse, map[string]any{
				"user.id": fmt.Sprintf("u-%d", rng.IntN(50)), "pulse.recommendation.id": fmt.Sprintf("rec-%d", rng.IntN(20))})
		default:
			b.add(platform, schema.EventAnalytics, map[string]any{
				"user.id": fmt.Sprintf("u-%d", rng.IntN(50)), "session.id": fmt.Sprintf("s-%d", rng.IntN(80))})
		}
	}
	return b.ld
}

func TestKafkaMurmur2(t *testing.T) {
	// Kafka's UtilsTest vectors (signed Java ints).
	for in, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		assert.Equal(t, want, int32(kafkaMurmur2([]byte(in))), in)
	}
}

// TestKeysTable recomputes README.md's "Choosing keys" table (the busiest
// partition's share of groups against the mean) with Kafka's murmur2, so
// the advice stays true to the partitioner.
func TestKeysTable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var header []int
	rows := 0
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(line, "| keys \\ partitions |") {
			for _, c := range cells[1:] {
				n, err := strconv.Atoi(c)
				require.NoError(t, err)
				header = append(header, n)
			}
			continue
		}
		if header == nil || len(cells) != len(header)+1 {
			continue
		}
		keys, err := strconv.Atoi(cells[0])
		if err != nil {
			continue
		}
		rows++
		for i, partitions := range header {
			load := make([]int, partitions)
			for g := range keys {
				load[int(kafkaMurmur2([]byte(strconv.Itoa(g)))&0x7fffffff)%partitions]++
			}
			busiest := float64(slices.Max(load)) / (float64(keys) / float64(partitions))
			assert.Equal(t, fmt.Sprintf("%.2f", busiest), cells[i+1], "keys %d, %d partitions", keys, partitions)
		}
	}
	assert.Equal(t, 6, rows, "README.md's keys table was not found")
}

// TestPartitionsSpreadGroupsEvenly checks that with partitions set every
// partition gets exactly keys/partitions groups under Kafka's partitioner,
// and that the values are distinct and stable.
func TestPartitionsSpreadGroupsEvenly(t *testing.T) {
	for _, c := range []struct{ keys, partitions int }{{6, 6}, {64, 8}, {256, 16}, {1024, 32}, {12, 3}} {
		vals := groupValues(c.keys, c.partitions)
		load := make([]int, c.partitions)
		seen := map[string]bool{}
		for g, v := range vals {
			require.Falsef(t, seen[v], "value %q used twice", v)
			seen[v] = true
			p := kafkaPartition(v, c.partitions)
			assert.Equalf(t, g%c.partitions, p, "group %d (%q)", g, v)
			load[p]++
		}
		for p, n := range load {
			assert.Equalf(t, c.keys/c.partitions, n, "keys %d partitions %d: partition %d", c.keys, c.partitions, p)
		}
		assert.Equal(t, vals, groupValues(c.keys, c.partitions))
	}
	// Without partitions the values are the group numbers.
	assert.Equal(t, []string{"0", "1", "2"}, groupValues(3, 0))
}
