#!/usr/bin/env python3
"""XXH64 written from the xxHash specification, independent of the Go
library the processor uses. It computes the golden key groups in
key_test.go with the processor's seed (key.go, groupSeed):

    python3 testdata/xxh64.py KEYS ID...
"""
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F,
                      0x165667B19E3779F9, 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    acc = (acc + lane * P2) & M
    return (rotl(acc, 31) * P1) & M


def merge(acc, v):
    acc ^= rnd(0, v)
    return (acc * P1 + P4) & M


def xxh64(data, seed=0):
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for j in range(4):
                v[j] = rnd(v[j], int.from_bytes(data[i:i + 8], "little"))
                i += 8
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for x in v:
            h = merge(h, x)
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, int.from_bytes(data[i:i + 8], "little"))
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


# The processor's seed: the ASCII bytes of "pulse.uk".
GROUP_SEED = int.from_bytes(b"pulse.uk", "big")

if __name__ == "__main__":
    assert xxh64(b"") == 0xEF46DB3751D8E999  # the specification's vectors
    assert xxh64(b"abc") == 0x44BC2CF5AD770999
    keys = int(sys.argv[1])
    for s in sys.argv[2:]:
        h = xxh64(s.encode(), GROUP_SEED)
        print(f'{{"{s}", 0x{h:016x}, {h % keys}}},')
