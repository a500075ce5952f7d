package partstate

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The records' values start with a fixed header: magic, version, kind.
// Integers are big-endian. One table per kind, in the order written:
//
//	claim:   p int32 | epoch u64 | owner [16]
//	chunk:   p int32 | epoch u64 | owner [16] | seq u64 | i u32 | n u32 | bytes...
//	pointer: p int32 | epoch u64 | owner [16] | seq u64 | slot u8 |
//	         chunk partition int32 | first offset i64 | last offset i64 |
//	         n u32 | total u64 | crc32c u32
const (
	magic   = 'P'
	version = 1

	kindClaim   byte = 1
	kindChunk   byte = 2
	kindPointer byte = 3

	headerLen  = 3
	identLen   = 4 + 8 + ownerLen
	claimLen   = headerLen + identLen
	chunkHead  = headerLen + identLen + 8 + 4 + 4
	pointerLen = headerLen + identLen + 8 + 1 + 4 + 8 + 8 + 4 + 8 + 4
	ownerLen   = 16
)

type owner [ownerLen]byte

func (o owner) String() string { return fmt.Sprintf("%x", o[:4]) }

// ident names whose state a record is about.
type ident struct {
	p     int32
	epoch uint64
	owner owner
}

type chunk struct {
	ident
	seq  uint64
	i, n uint32
	data []byte // aliases the record's value
}

// pointer says where a complete snapshot's chunks are. A snapshot exists
// only once its pointer does.
type pointer struct {
	ident
	seq    uint64
	slot   uint8
	cpart  int32 // chunk topic partition
	first  int64 // offset of chunk 0
	last   int64 // offset of chunk n-1
	n      uint32
	total  uint64
	crc    uint32
	offset int64 // the pointer record's own offset on the control topic
}

var errShort = errors.New("value too short")

func putIdent(b []byte, kind byte, id ident) []byte {
	b = append(b, magic, version, kind)
	b = binary.BigEndian.AppendUint32(b, uint32(id.p))
	b = binary.BigEndian.AppendUint64(b, id.epoch)
	return append(b, id.owner[:]...)
}

func encodeClaim(id ident) []byte { return putIdent(make([]byte, 0, claimLen), kindClaim, id) }

func encodeChunk(c chunk) []byte {
	b := putIdent(make([]byte, 0, chunkHead+len(c.data)), kindChunk, c.ident)
	b = binary.BigEndian.AppendUint64(b, c.seq)
	b = binary.BigEndian.AppendUint32(b, c.i)
	b = binary.BigEndian.AppendUint32(b, c.n)
	return append(b, c.data...)
}

func encodePointer(pt pointer) []byte {
	b := putIdent(make([]byte, 0, pointerLen), kindPointer, pt.ident)
	b = binary.BigEndian.AppendUint64(b, pt.seq)
	b = append(b, pt.slot)
	b = binary.BigEndian.AppendUint32(b, uint32(pt.cpart))
	b = binary.BigEndian.AppendUint64(b, uint64(pt.first))
	b = binary.BigEndian.AppendUint64(b, uint64(pt.last))
	b = binary.BigEndian.AppendUint32(b, pt.n)
	b = binary.BigEndian.AppendUint64(b, pt.total)
	return binary.BigEndian.AppendUint32(b, pt.crc)
}

// decodeHeader returns a record value's kind and identity.
func decodeHeader(v []byte) (byte, ident, error) {
	if len(v) < headerLen+identLen {
		return 0, ident{}, fmt.Errorf("%w: %d bytes", errShort, len(v))
	}
	if v[0] != magic || v[1] != version {
		return 0, ident{}, fmt.Errorf("unknown header %#x %#x", v[0], v[1])
	}
	var id ident
	id.p = int32(binary.BigEndian.Uint32(v[3:]))
	id.epoch = binary.BigEndian.Uint64(v[7:])
	copy(id.owner[:], v[15:15+ownerLen])
	return v[2], id, nil
}

func decodeChunk(v []byte) (chunk, error) {
	kind, id, err := decodeHeader(v)
	if err != nil {
		return chunk{}, err
	}
	if kind != kindChunk {
		return chunk{}, fmt.Errorf("kind %d is not a chunk", kind)
	}
	if len(v) < chunkHead {
		return chunk{}, fmt.Errorf("chunk: %w: %d bytes", errShort, len(v))
	}
	o := headerLen + identLen
	c := chunk{ident: id, seq: binary.BigEndian.Uint64(v[o:]), i: binary.BigEndian.Uint32(v[o+8:]), n: binary.BigEndian.Uint32(v[o+12:]), data: v[chunkHead:]}
	if c.i >= c.n {
		return chunk{}, fmt.Errorf("chunk index %d not below count %d", c.i, c.n)
	}
	return c, nil
}

// decodePointer reads a pointer's value after its header.
func decodePointer(id ident, v []byte) (pointer, error) {
	if len(v) != pointerLen {
		return pointer{}, fmt.Errorf("pointer: %d bytes, want %d", len(v), pointerLen)
	}
	o := headerLen + identLen
	pt := pointer{ident: id}
	pt.seq = binary.BigEndian.Uint64(v[o:])
	pt.slot = v[o+8]
	pt.cpart = int32(binary.BigEndian.Uint32(v[o+9:]))
	pt.first = int64(binary.BigEndian.Uint64(v[o+13:]))
	pt.last = int64(binary.BigEndian.Uint64(v[o+21:]))
	pt.n = binary.BigEndian.Uint32(v[o+29:])
	pt.total = binary.BigEndian.Uint64(v[o+33:])
	pt.crc = binary.BigEndian.Uint32(v[o+41:])
	if pt.slot > 1 {
		return pointer{}, fmt.Errorf("pointer: slot %d, want 0 or 1", pt.slot)
	}
	if pt.n > 0 && (pt.first < 0 || pt.last < pt.first || pt.last-pt.first < int64(pt.n)-1) {
		return pointer{}, fmt.Errorf("pointer: %d chunks cannot lie at offsets %d..%d", pt.n, pt.first, pt.last)
	}
	if pt.total > uint64(pt.n)*maxChunkBytes {
		return pointer{}, fmt.Errorf("pointer: %d bytes cannot fit %d chunks", pt.total, pt.n)
	}
	return pt, nil
}

// Record keys are what compaction keeps the latest of: each owner's latest
// claim, and per slot the latest pointer and the latest chunk of each index.
func claimKey(p int32, o owner) []byte { return fmt.Appendf(nil, "p/%d/claim/%x", p, o[:]) }

func chunkKey(p int32, slot uint8, i uint32) []byte {
	return fmt.Appendf(nil, "p/%d/s%d/chunk/%d", p, slot, i)
}

func pointerKey(p int32, slot uint8) []byte { return fmt.Appendf(nil, "p/%d/s%d/ptr", p, slot) }
