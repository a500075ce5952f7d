package partstate

import (
	"context"
	"testing"

	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

const benchState = 1 << 20

// BenchmarkKafkaSave1MiB saves a 1 MiB state (two chunks and a pointer,
// acknowledged by all replicas, then read back to the pointer by the
// tailer) to kfake on loopback.
func BenchmarkKafkaSave1MiB(b *testing.B) {
	s, p, epoch := benchStore(b)
	state := make([]byte, benchState)
	ctx := context.Background()
	b.SetBytes(benchState)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(ctx, p, epoch, state); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKafkaClaim1MiB claims a partition whose state is 1 MiB: the
// claim record, the tailer reading past it, and the chunks' fetch.
func BenchmarkKafkaClaim1MiB(b *testing.B) {
	s, p, epoch := benchStore(b)
	ctx := context.Background()
	if err := s.Save(ctx, p, epoch, make([]byte, benchState)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchState)
	b.ReportAllocs()
	for b.Loop() {
		state, _, err := s.Claim(ctx, p)
		if err != nil || len(state) != benchState {
			b.Fatalf("claim: %d bytes, %v", len(state), err)
		}
	}
}

func benchStore(b *testing.B) (Store, int32, uint64) {
	broker := kafkatest.Start(b, 1)
	s, err := NewKafka(context.Background(), KafkaConfig{Brokers: []string{broker.Addr}, Topic: "bench"}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	_, epoch, err := s.Claim(context.Background(), 0)
	if err != nil {
		b.Fatal(err)
	}
	return s, 0, epoch
}
