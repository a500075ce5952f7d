package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"

import "strconv"

// kafkaMurmur2 is Kafka's Utils.murmur2, the Java client's default
// partitioner and the kafka exporter's `sticky_key: hasher: murmur2`,
// written from the Java source (TestKafkaMurmur2 checks Kafka's own
// vectors). The partition of a key is kafkaPartition.
func kafkaMurmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	n := len(data)
	h := uint32(seed) ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// kafkaPartition is the partition Kafka's murmur2 partitioner gives key
// among n: the hash made positive, modulo n.
func kafkaPartition(key string, n int) int {
	return int(kafkaMurmur2([]byte(key))&0x7fffffff) % n
}

// groupValues returns each group's metadata value: its number, or with
// partitions set, the first of "g", "g.1", "g.2", ... that Kafka's
// partitioner sends to partition g % partitions, so that every partition
// gets keys / partitions groups and as many users. The search is
// deterministic: every gateway finds the same values.
func groupValues(keys, partitions int) []string {
	out := make([]string, keys)
	for g := range out {
		v := strconv.Itoa(g)
		if partitions > 0 {
			for i := 1; kafkaPartition(v, partitions) != g%partitions; i++ {
				v = strconv.Itoa(g) + "." + strconv.Itoa(i)
			}
		}
		out[g] = v
	}
	return out
}
