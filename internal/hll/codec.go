package hll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
	"time"
)

// Persisted format, version 1. All integers are big endian or (u)varints as
// in encoding/binary.
//
//	magic      "PHLL"
//	version    1 byte  = 1
//	precision  1 byte  = 14
//	hash       1 byte  = 1: xxHash64 (seed 0) of the id's bytes; register =
//	                   low 14 bits, rank = 1 + trailing zeros of the other 50
//	                   bits, at most 51
//	windows    1 byte  count, then per window sorted by name: name length
//	                   (1 byte), name, length and bucket in seconds (uvarints)
//	slots      uvarint count, then per bucket slot holding data:
//	             width   1 byte: index of the bucket width among the
//	                     distinct widths in ascending order
//	             bucket  varint: bucket index (Unix seconds / width)
//	             kind    1 byte: 0 dense, 1 sparse
//	             dense:  16384 register bytes
//	             sparse: uvarint count of non-zero registers, then per
//	                     register the uvarint gap to the previous one (the
//	                     first is its index, later ones index-previous-1)
//	                     and its value (1 byte)
//	crc        4 bytes: CRC-32C (Castagnoli) of everything before it
const (
	formatMagic   = "PHLL"
	formatVersion = 1
	hashXXH64     = 1
	headerLen     = len(formatMagic) + 3
	crcLen        = 4

	kindDense  = 0
	kindSparse = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors wrapped by UnmarshalBinary, for errors.Is: a caller that persists
// the state can start afresh on ErrLayout (the windows were reconfigured)
// and report the others.
var (
	// ErrCorrupt: the data is truncated, fails its checksum or is malformed.
	ErrCorrupt = errors.New("hll: corrupt state")
	// ErrVersion: the data was written by another format version, precision
	// or hash function.
	ErrVersion = errors.New("hll: unsupported state format")
	// ErrLayout: the data was written by a Ring with other windows.
	ErrLayout = errors.New("hll: state has another window layout")
)

// MarshalBinary encodes the Ring's buckets (implements
// encoding.BinaryMarshaler). Buckets the clock has moved past every window
// of are left out, as are buckets more than one ahead of the clock (the
// clock was set back); buckets with few ids are stored sparsely, so the size
// grows with the data up to about 16 KiB per bucket.
func (r *Ring) MarshalBinary() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, 0, 256)
	b = append(b, formatMagic...)
	b = append(b, formatVersion, precision, hashXXH64)
	b = r.appendLayout(b)

	type slotRef struct {
		width int
		slot  int
	}
	var live []slotRef
	now := r.clock().Unix()
	for wi := range r.widths {
		w := &r.widths[wi]
		cur := floorDiv(now, w.sec)
		for s, idx := range w.idx {
			if idx == emptySlot || idx <= cur-w.buckets || idx > cur+1 || allZero(w.regs[s]) {
				continue
			}
			live = append(live, slotRef{wi, s})
		}
	}
	b = binary.AppendUvarint(b, uint64(len(live)))
	for _, ref := range live {
		w := &r.widths[ref.width]
		b = append(b, byte(ref.width))
		b = binary.AppendVarint(b, w.idx[ref.slot])
		b = appendRegs(b, w.regs[ref.slot])
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// appendLayout appends the windows, sorted by name.
func (r *Ring) appendLayout(b []byte) []byte {
	ws := r.sortedWindows()
	b = append(b, byte(len(ws)))
	for _, w := range ws {
		b = append(b, byte(len(w.Name)))
		b = append(b, w.Name...)
		b = binary.AppendUvarint(b, uint64(w.Length/time.Second))
		b = binary.AppendUvarint(b, uint64(w.Bucket/time.Second))
	}
	return b
}

func (r *Ring) sortedWindows() []Window {
	ws := r.Windows()
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
	return ws
}

// appendRegs appends one bucket's registers, sparse when that is smaller.
func appendRegs(b []byte, regs []uint8) []byte {
	nonZero, sparseLen := 0, 0
	prev := -1
	for i, v := range regs {
		if v != 0 {
			nonZero++
			sparseLen += uvarintLen(uint64(i-prev-1)) + 1
			prev = i
		}
	}
	if sparseLen+uvarintLen(uint64(nonZero)) >= len(regs) {
		b = append(b, kindDense)
		return append(b, regs...)
	}
	b = append(b, kindSparse)
	b = binary.AppendUvarint(b, uint64(nonZero))
	prev = -1
	for i, v := range regs {
		if v != 0 {
			b = binary.AppendUvarint(b, uint64(i-prev-1))
			b = append(b, v)
			prev = i
		}
	}
	return b
}

func allZero(regs []uint8) bool {
	for _, v := range regs {
		if v != 0 {
			return false
		}
	}
	return true
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// UnmarshalBinary replaces the Ring's buckets with those encoded in data by
// MarshalBinary (implements encoding.BinaryUnmarshaler). The Ring must come
// from NewRing with the same windows (in any order) as the Ring that wrote
// data. Errors wrap ErrCorrupt, ErrVersion or ErrLayout and say where the
// data is wrong; on error the Ring is left unchanged. It never panics.
func (r *Ring) UnmarshalBinary(data []byte) error {
	if len(r.widths) == 0 {
		return errors.New("hll: UnmarshalBinary on a Ring not made by NewRing")
	}
	if len(data) < headerLen+crcLen {
		return fmt.Errorf("%w: %d bytes, shorter than the %d byte header and checksum", ErrCorrupt, len(data), headerLen+crcLen)
	}
	if string(data[:len(formatMagic)]) != formatMagic {
		return fmt.Errorf("%w: does not start with %q", ErrCorrupt, formatMagic)
	}
	body := data[:len(data)-crcLen]
	if want, got := binary.BigEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x over %d bytes): truncated or damaged", ErrCorrupt, want, got, len(body))
	}
	if v := data[4]; v != formatVersion {
		return fmt.Errorf("%w: format version %d, this build reads version %d", ErrVersion, v, formatVersion)
	}
	if p := data[5]; p != precision {
		return fmt.Errorf("%w: precision %d, this build uses %d", ErrVersion, p, precision)
	}
	if h := data[6]; h != hashXXH64 {
		return fmt.Errorf("%w: hash function %d, this build uses %d (xxHash64)", ErrVersion, h, hashXXH64)
	}

	d := decoder{b: body, off: headerLen}
	if err := r.checkLayout(&d); err != nil {
		return err
	}

	// Decode into fresh slots; commit only when everything parsed.
	idxs := make([][]int64, len(r.widths))
	regs := make([][][]uint8, len(r.widths))
	maxSlots := 0
	for i := range r.widths {
		w := &r.widths[i]
		idxs[i] = make([]int64, w.slots)
		for s := range idxs[i] {
			idxs[i][s] = emptySlot
		}
		regs[i] = make([][]uint8, w.slots)
		maxSlots += int(w.slots)
	}
	at := d.off
	n, err := d.uvarint("slot count")
	if err != nil {
		return err
	}
	if n > uint64(maxSlots) {
		return fmt.Errorf("%w: %d bucket slots at offset %d, the layout has %d", ErrCorrupt, n, at, maxSlots)
	}
	for k := range int(n) {
		at := d.off
		wb, err := d.byte("slot width")
		if err != nil {
			return err
		}
		wi := int(wb)
		if wi >= len(r.widths) {
			return fmt.Errorf("%w: slot %d at offset %d: width index %d, the layout has %d widths", ErrCorrupt, k, at, wi, len(r.widths))
		}
		w := &r.widths[wi]
		idx, err := d.varint("bucket index")
		if err != nil {
			return err
		}
		if idx == emptySlot {
			return fmt.Errorf("%w: slot %d at offset %d: bucket index %d is reserved", ErrCorrupt, k, at, idx)
		}
		s := floorMod(idx, w.slots)
		if idxs[wi][s] != emptySlot {
			return fmt.Errorf("%w: slot %d at offset %d: bucket %d of width %v takes the ring slot of bucket %d", ErrCorrupt, k, at, idx, time.Duration(w.sec)*time.Second, idxs[wi][s])
		}
		rg, err := d.regs()
		if err != nil {
			return fmt.Errorf("slot %d (offset %d): %w", k, at, err)
		}
		idxs[wi][s] = idx
		regs[wi][s] = rg
	}
	if d.off != len(body) {
		return fmt.Errorf("%w: %d unexpected bytes after the last slot at offset %d", ErrCorrupt, len(body)-d.off, d.off)
	}

	r.mu.Lock()
	for i := range r.widths {
		w := &r.widths[i]
		w.idx, w.regs = idxs[i], regs[i]
	}
	r.nowOK = false
	r.mu.Unlock()
	return nil
}

// checkLayout reads the windows of the data and compares them with r's.
func (r *Ring) checkLayout(d *decoder) error {
	at := d.off
	nb, err := d.byte("window count")
	if err != nil {
		return err
	}
	var got []Window
	for k := range int(nb) {
		l, err := d.byte("window name length")
		if err != nil {
			return err
		}
		name, err := d.bytes(int(l), "window name")
		if err != nil {
			return err
		}
		length, err := d.uvarint("window length")
		if err != nil {
			return err
		}
		bucket, err := d.uvarint("window bucket")
		if err != nil {
			return err
		}
		const maxSec = uint64(1<<63-1) / uint64(time.Second)
		if length > maxSec || bucket > maxSec {
			return fmt.Errorf("%w: window %d (%q): length %ds or bucket %ds out of range", ErrCorrupt, k, name, length, bucket)
		}
		got = append(got, Window{Name: string(name), Length: time.Duration(length) * time.Second, Bucket: time.Duration(bucket) * time.Second})
	}
	want := r.sortedWindows()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i] == want[i]
	}
	if !same {
		return fmt.Errorf("%w: state (offset %d) has windows %s, this Ring has %s", ErrLayout, at, layoutString(got), layoutString(want))
	}
	return nil
}

func layoutString(ws []Window) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%q=%v/%v", w.Name, w.Length, w.Bucket)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// decoder reads the body of an encoded Ring, with errors that name the
// field and its offset.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) short(what string, need int) error {
	return fmt.Errorf("%w: %s at offset %d needs %d bytes, %d left", ErrCorrupt, what, d.off, need, len(d.b)-d.off)
}

func (d *decoder) byte(what string) (byte, error) {
	if d.off >= len(d.b) {
		return 0, d.short(what, 1)
	}
	v := d.b[d.off]
	d.off++
	return v, nil
}

func (d *decoder) bytes(n int, what string) ([]byte, error) {
	if n > len(d.b)-d.off {
		return nil, d.short(what, n)
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v, nil
}

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: %s at offset %d: truncated or overlong varint", ErrCorrupt, what, d.off)
	}
	d.off += n
	return v, nil
}

func (d *decoder) varint(what string) (int64, error) {
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: %s at offset %d: truncated or overlong varint", ErrCorrupt, what, d.off)
	}
	d.off += n
	return v, nil
}

// regs reads one bucket's registers, dense or sparse.
func (d *decoder) regs() ([]uint8, error) {
	at := d.off
	kind, err := d.byte("register encoding")
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindDense:
		src, err := d.bytes(numRegs, "dense registers")
		if err != nil {
			return nil, err
		}
		for i, v := range src {
			if v > maxRank {
				return nil, fmt.Errorf("%w: register %d = %d at offset %d, at most %d", ErrCorrupt, i, v, at+1+i, maxRank)
			}
		}
		return append(make([]uint8, 0, numRegs), src...), nil
	case kindSparse:
		n, err := d.uvarint("sparse register count")
		if err != nil {
			return nil, err
		}
		if n == 0 || n > numRegs {
			return nil, fmt.Errorf("%w: %d sparse registers at offset %d, want 1 to %d", ErrCorrupt, n, at+1, numRegs)
		}
		// Each register takes at least 2 bytes: check before allocating.
		if 2*n > uint64(len(d.b)-d.off) {
			return nil, d.short("sparse registers", int(2*n))
		}
		out := make([]uint8, numRegs)
		next := uint64(0) // smallest index the next register may have
		for range n {
			pos := d.off
			gap, err := d.uvarint("sparse register gap")
			if err != nil {
				return nil, err
			}
			if gap >= numRegs-next {
				return nil, fmt.Errorf("%w: sparse register gap %d at offset %d goes past register %d", ErrCorrupt, gap, pos, numRegs-1)
			}
			i := next + gap
			v, err := d.byte("sparse register value")
			if err != nil {
				return nil, err
			}
			if v == 0 || v > maxRank {
				return nil, fmt.Errorf("%w: sparse register %d = %d at offset %d, want 1 to %d", ErrCorrupt, i, v, d.off-1, maxRank)
			}
			out[i] = v
			next = i + 1
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: register encoding %d at offset %d, want %d (dense) or %d (sparse)", ErrCorrupt, kind, at, kindDense, kindSparse)
	}
}
