package forgetextension

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
)

// FuzzLoadStore feeds an arbitrary meta record and chunk to the loader of
// the persisted forget list: it must never panic nor allocate what a
// corrupt header asks for, and must either load or fail with an error.
func FuzzLoadStore(f *testing.F) {
	key := []byte(testKey)
	f.Add([]byte(`{"format":1,"recordSize":56,"chunks":1,"keyCheck":"`+keyCheck(key)+`"}`), make([]byte, recordSize))
	f.Add([]byte(`{"format":1,"recordSize":56,"chunks":2000000000,"keyCheck":"`+keyCheck(key)+`"}`), []byte{})
	f.Add([]byte(`{"format":1}`), []byte{1, 2, 3})
	f.Add([]byte(`not json`), []byte(nil))
	f.Fuzz(func(t *testing.T, meta, chunk []byte) {
		m := newMemStorage()
		m.data[metaKey] = meta
		m.data[chunkKey(0)] = chunk
		client, _ := m.GetClient(context.Background(), component.KindExtension, component.ID{}, "")
		s := &store{client: client}
		recs, err := s.load(context.Background(), key)
		if err == nil && len(recs)*recordSize > len(chunk) {
			t.Fatalf("loaded %d records from a %d-byte chunk", len(recs), len(chunk))
		}
	})
}
