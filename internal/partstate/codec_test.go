package partstate

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodecRoundTrip(t *testing.T) {
	id := ident{p: 7, epoch: 42, owner: owner{1, 2, 3}}
	kind, got, err := decodeHeader(encodeClaim(id))
	require.NoError(t, err)
	assert.Equal(t, kindClaim, kind)
	assert.Equal(t, id, got)

	c := chunk{ident: id, seq: 9, i: 1, n: 3, data: []byte("abc")}
	gc, err := decodeChunk(encodeChunk(c))
	require.NoError(t, err)
	assert.Equal(t, c, gc)

	pt := pointer{ident: id, seq: 9, slot: 1, cpart: 2, first: 100, last: 104, n: 3, total: 1500, crc: 0xdeadbeef}
	v := encodePointer(pt)
	kind, gid, err := decodeHeader(v)
	require.NoError(t, err)
	require.Equal(t, kindPointer, kind)
	gp, err := decodePointer(gid, v)
	require.NoError(t, err)
	assert.Equal(t, pt, gp)
}

func TestCodecRejects(t *testing.T) {
	id := ident{p: 1, epoch: 1}
	for name, c := range map[string]struct {
		v    []byte
		want string
	}{
		"short":       {[]byte{magic, version, kindClaim}, "too short"},
		"magic":       {append([]byte{'X'}, encodeClaim(id)[1:]...), "unknown header"},
		"chunk index": {encodeChunk(chunk{ident: id, i: 3, n: 3}), "index 3 not below count 3"},
		"slot":        {encodePointer(pointer{ident: id, slot: 2}), "slot 2"},
		"offsets":     {encodePointer(pointer{ident: id, n: 3, first: 10, last: 11}), "3 chunks cannot lie at offsets 10..11"},
		"total":       {encodePointer(pointer{ident: id, n: 1, first: 1, last: 1, total: maxChunkBytes + 1}), "cannot fit 1 chunks"},
	} {
		t.Run(name, func(t *testing.T) {
			kind, gid, err := decodeHeader(c.v)
			if err == nil && kind == kindChunk {
				_, err = decodeChunk(c.v)
			} else if err == nil && kind == kindPointer {
				_, err = decodePointer(gid, c.v)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// FuzzDecode: any value decodes or errors without panicking, and whatever
// decodes re-encodes to the same bytes (one wire form per record).
func FuzzDecode(f *testing.F) {
	id := ident{p: 3, epoch: 5, owner: owner{9}}
	f.Add(encodeClaim(id))
	f.Add(encodeChunk(chunk{ident: id, seq: 1, i: 0, n: 2, data: []byte("xy")}))
	f.Add(encodePointer(pointer{ident: id, seq: 1, n: 2, first: 4, last: 9, total: 10}))
	f.Fuzz(func(t *testing.T, v []byte) {
		kind, gid, err := decodeHeader(v)
		if err != nil {
			return
		}
		var again []byte
		switch kind {
		case kindClaim:
			if len(v) != claimLen {
				return // trailing bytes are ignored on claims
			}
			again = encodeClaim(gid)
		case kindChunk:
			c, err := decodeChunk(v)
			if err != nil {
				return
			}
			if c.i >= c.n {
				t.Fatalf("accepted chunk %d of %d", c.i, c.n)
			}
			again = encodeChunk(c)
		case kindPointer:
			pt, err := decodePointer(gid, v)
			if err != nil {
				return
			}
			again = encodePointer(pt)
		default:
			return
		}
		if !bytes.Equal(again, v) {
			t.Fatalf("decoded %x re-encodes as %x", v, again)
		}
	})
}
