#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-pgtable (fuzz/corpus/fuzz-pgtable/).

Each seed is one table (the 8-byte header) and a sequence of 9-byte
operations, in the input layout fuzz/fuzz-pgtable.c documents.  The seeds
cover every format and granule, the quirks, both walker kinds and the
windows; the operations are hand-written scenarios (a block over a table,
a batch across a table end, overlaps, partial unmaps, iommu_map splits)
plus a few fixed-seed random ones.  Run it again after changing the input
layout:

    python3 fuzz/gen-pgtable-seeds.py fuzz/corpus/fuzz-pgtable
"""
import os
import random
import sys

FORMATS = ["arm-64-lpae-s1", "arm-64-lpae-s2", "arm-32-lpae-s1",
           "arm-32-lpae-s2", "arm-mali-lpae", "arm-v7s"]
# fuzz-pgtable.c cand_sizes[]
SIZES = ["4K", "16K", "64K", "1M", "2M", "16M", "32M", "512M", "1G", "4T"]
# fuzz-pgtable.c addr_bits[] (0: the format's default)
ADDR_BITS = [0, 32, 40, 48, 36, 44, 42, 52, 39, 34, 35, 33, 30, 20, 47, 49,
             24, 21, 38, 41]
QUIRKS = ["ns", "no-perms", "mtk-ext", "mtk-ttbr-ext", "ttbr1", "outer-wbwa",
          "hd", "s2fwb", "no-warn"]
WINDOW = {"bottom": 0, "top": 1, "middle": 2}

MAP, MAP_B, MAP_C, UNMAP, UNMAP_B, PROBE, IOMMU_MAP, IOMMU_UNMAP = range(8)
RAW, PREV = 0x08, 0x10
GATHER_FRESH, GATHER_QUEUED = 0x20, 0x40
DIRTY, NO_CLEAR = 0x20, 0x40
PA_TOP = 0x80
R, W, C, NX, MMIO, PRIV = 1, 2, 4, 8, 16, 32


def addr_byte(bits):
    return ADDR_BITS.index(bits) if bits in ADDR_BITS else 0xc0 + bits


def header(fmt, sizes=(), ias=0, oas=0, quirks=(), coherent=True,
           window="bottom", scale=0, filter_quirks=False):
    mask = 0
    for s in sizes:
        mask |= 1 << SIZES.index(s)
    q = 0
    for name in quirks:
        q |= 1 << QUIRKS.index(name)
    h2 = (mask >> 8) & 3
    h2 |= 0 if coherent else 0x04
    h2 |= WINDOW[window] << 3
    h2 |= 0x20 if filter_quirks else 0
    return bytes([FORMATS.index(fmt), mask & 0xff, h2, addr_byte(ias),
                  addr_byte(oas), q & 0xff, q >> 8, scale])


def count_byte(n):
    if n == 0:
        return 0xff
    if 1 <= n <= 4:
        return n - 1
    if n <= 32:
        return 0x80 | (n - 1)
    assert (n - 1) % 32 == 0 and n <= 961, n
    return 0xe0 | ((n - 1) >> 5)


def op(kind, size_idx=0, count=1, iova=0, pa=0, prot=R | W, flags=0):
    """size_idx: the n-th size of the table's bitmap (0 = granule), or
    0xf0 + i for fuzz-pgtable.c raw_sizes[i]; iova, pa: in pages of it."""
    return bytes([kind | flags, size_idx, count_byte(count), iova & 0xff,
                  (iova >> 8) & 0xff, (iova >> 16) & 0xff, pa & 0xff,
                  (pa >> 8) & 0xff, (prot & 0x3f)])


def scenario_blocks():
    """Pages, a block over their table, overlaps, partial unmaps."""
    return [
        op(MAP, 0, 3, iova=512, pa=7),          # 3 granules in table 1
        op(MAP, 1, 1, iova=1, pa=1),            # a block over that table
        op(MAP, 0, 1, iova=513, pa=9),          # inside the block: -EEXIST
        op(UNMAP, 0, 1, iova=513),              # part of a block: 0
        op(PROBE, 0, 1, iova=513, pa=0x123),
        op(UNMAP, 1, 1, iova=1, flags=GATHER_FRESH),
        op(MAP, 0, 1, iova=513, pa=9, prot=R | C | NX),
        op(MAP, 0, 2, iova=513, pa=3),          # first slot taken: -EEXIST
        op(UNMAP, 0, 2, iova=512),              # a hole first: 0
        op(UNMAP, 0, 4, iova=513, flags=GATHER_QUEUED),
        op(MAP, 0, 1, iova=5, pa=5, prot=C),    # no R/W: -EINVAL
        op(MAP, 0, 1, iova=6, pa=6, prot=W | MMIO | PRIV),
    ]


def scenario_batches():
    """A batch across a table end, iommu_map splits and their unmap."""
    return [
        op(MAP, 0, 961, iova=300, pa=300),      # stops at the table end
        op(UNMAP, 0, 961, iova=300),
        op(IOMMU_MAP, 0, 961, iova=300, pa=300),
        op(IOMMU_UNMAP, 0, 961, iova=300, flags=GATHER_FRESH),
        op(IOMMU_MAP, 0, 513, iova=1, pa=2),    # iova and pa out of phase
        op(IOMMU_MAP, 0, 4, iova=2, pa=9),      # overlaps: rolled back
        op(IOMMU_UNMAP, 0, 32, iova=0),         # starts at a hole
        op(IOMMU_UNMAP, 0, 961, iova=1, flags=PREV),
        op(MAP, 1, 2, iova=0, pa=0, flags=PA_TOP),
        op(MAP, 1, 32, iova=3, pa=0, flags=PA_TOP),  # past oas: -ERANGE
    ]


def scenario_raw():
    """Misaligned, out of range, sizes the table lacks, zero counts."""
    return [
        op(MAP, 0, 1, iova=0x0d, pa=0x2a, flags=RAW),   # iova bit 13
        op(MAP, 0, 1, iova=0x05, pa=0x3f, flags=RAW),   # bit 5, pa bit 63
        op(MAP, 0xf2, 1, iova=1, pa=1),                 # 0x3000
        op(MAP, 0xf0, 1, iova=1, pa=1),                 # 0
        op(MAP, 0xfe, 1, iova=1, pa=1),                 # 1 << 63
        op(MAP, 0, 0, iova=1, pa=1),                    # no pages
        op(UNMAP, 0xfd, 2, iova=1),                     # 4T
        op(UNMAP, 0, 0, iova=1),
        op(IOMMU_MAP, 0xff, 1, iova=1, pa=1),           # ~0UL
        op(IOMMU_UNMAP, 0, 1, iova=0x3f, pa=0x30, flags=RAW),
        op(PROBE, 0, 1, iova=0x3e, pa=0x3f, flags=RAW),
        op(PROBE, 0, 1, iova=4, flags=DIRTY),
        op(MAP, 0, 8, iova=8, pa=8),
        op(PROBE, 0, 32, iova=8, flags=DIRTY),
        op(PROBE, 0, 32, iova=8, flags=DIRTY | NO_CLEAR),
    ]


def scenario_random(rng, n_sizes, n=60):
    ops = []
    for _ in range(n):
        kind = rng.choice([MAP, MAP, MAP, UNMAP, UNMAP, PROBE, IOMMU_MAP,
                           IOMMU_UNMAP])
        flags = 0
        if rng.random() < 0.3:
            flags |= PREV
        if kind in (UNMAP, IOMMU_UNMAP):
            flags |= rng.choice([0, GATHER_FRESH, GATHER_QUEUED])
        count = rng.choice([1, 1, 1, 2, 3, 4, 16, 17, 513])
        ops.append(op(kind, rng.randrange(n_sizes), count,
                      iova=rng.randrange(64), pa=rng.randrange(1 << 16),
                      prot=rng.choice([R | W, R, W, R | W | C, R | NX]),
                      flags=flags))
    return ops


# (name, header, number of page sizes the table will offer)
TABLES = [
    ("s1-4k-48", header("arm-64-lpae-s1", ["4K", "2M", "1G"], 48, 48), 3),
    ("s1-4k-32-noncoherent-hd",
     header("arm-64-lpae-s1", ["4K", "2M", "1G"], 32, 40, ["hd", "ns"],
            coherent=False), 3),
    ("s1-4k-39-ttbr1-top",
     header("arm-64-lpae-s1", ["4K", "2M", "1G"], 39, 48, ["ttbr1"],
            window="top"), 3),
    ("s1-16k-36", header("arm-64-lpae-s1", ["16K", "32M"], 36, 40), 2),
    ("s1-64k-52-ttbr1",
     header("arm-64-lpae-s1", ["64K", "512M", "4T"], 52, 52,
            ["ttbr1", "no-warn"], window="middle", scale=1), 3),
    ("s2-4k-40-concat", header("arm-64-lpae-s2", ["4K", "2M", "1G"], 40, 40,
                               ["s2fwb"]), 3),
    ("s2-16k-40-concat", header("arm-64-lpae-s2", ["16K", "32M"], 40, 40,
                                window="middle"), 2),
    ("s2-64k-42-44", header("arm-64-lpae-s2", ["64K", "512M"], 42, 44,
                            coherent=False, scale=2), 2),
    ("32-s1-32-40", header("arm-32-lpae-s1", ["4K", "2M", "1G"], 32, 40,
                           ["outer-wbwa"], coherent=False, window="top"), 3),
    ("32-s2-40-40", header("arm-32-lpae-s2", [], 40, 40), 3),
    ("mali-40-40", header("arm-mali-lpae", ["4K", "2M", "1G"], 40, 40), 3),
    ("mali-32-pgd1", header("arm-mali-lpae", ["4K", "2M"], 32, 32,
                            coherent=False), 2),
    ("v7s-32", header("arm-v7s", ["4K", "64K", "1M", "16M"], 32, 32, ["ns"],
                      scale=2), 4),
    ("v7s-noncoherent-top", header("arm-v7s", ["4K", "64K", "1M", "16M"], 32,
                                   32, coherent=False, window="top"), 4),
    ("v7s-mtk-35", header("arm-v7s", ["4K", "64K", "1M", "16M"], 34, 35,
                          ["mtk-ext", "no-perms"], window="middle"), 4),
    ("v7s-mtk-ttbr-ext", header("arm-v7s", ["4K", "64K", "1M"], 34, 35,
                                ["mtk-ext", "no-perms", "mtk-ttbr-ext"],
                                coherent=False), 3),
    ("v7s-ias24", header("arm-v7s", ["4K", "1M"], 24, 30), 2),
    ("v7s-default", header("arm-v7s", [], 0, 0, ["ns", "hd", "ttbr1"],
                           filter_quirks=True), 4),
]

# Allocs that must fail, each for one reason.
BAD = [
    ("bad-s1-quirk-mtk", header("arm-64-lpae-s1", [], 48, 48, ["mtk-ext"])),
    ("bad-s1-oas-45", header("arm-64-lpae-s1", [], 48, 45)),
    ("bad-32-ias-40", header("arm-32-lpae-s1", [], 40, 40)),
    ("bad-no-granule", header("arm-64-lpae-s2", ["2M", "1G"], 48, 48)),
    ("bad-v7s-mtk-perms", header("arm-v7s", [], 34, 35, ["mtk-ext"])),
    ("bad-v7s-ias-19", header("arm-v7s", [], 19, 32)),
    ("bad-s1-wbwa-coherent", header("arm-64-lpae-s1", [], 48, 48,
                                    ["outer-wbwa"])),
]


# Inputs that once found a bug, as small as they get; each says what.
REGRESS = [
    # A single page larger than 2^oas (Mali takes any oas) at paddr 0 was
    # mapped by the one-page fast path of map_pages, which checked only
    # the first byte against oas; now -ERANGE like every larger batch.
    ("regress-mali-block-beyond-oas",
     header("arm-mali-lpae", ["4K", "2M", "1G"], 48, 20) +
     op(MAP, 2, 1, iova=2, pa=0) + op(MAP, 1, 1, iova=3, pa=0) +
     op(MAP, 0, 1, iova=4, pa=0xff)),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz-pgtable")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(5)
    seeds = {}
    for name, hdr, n_sizes in TABLES:
        seeds[name + "-blocks"] = hdr + b"".join(scenario_blocks())
        seeds[name + "-batches"] = hdr + b"".join(scenario_batches())
        seeds[name + "-random"] = hdr + b"".join(scenario_random(rng,
                                                                 n_sizes))
    seeds["s1-4k-48-raw"] = TABLES[0][1] + b"".join(scenario_raw())
    seeds["v7s-32-raw"] = TABLES[12][1] + b"".join(scenario_raw())
    for name, hdr in BAD:
        seeds[name] = hdr + op(MAP)
    for name, data in REGRESS:
        seeds[name] = data
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
