#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-foreign (fuzz/corpus/fuzz-foreign/).

Each seed is a format, its registers, a few probes and a memory image
holding that format's tables, in the input layout fuzz/fuzz-foreign.c
documents.  The tables are built here by hand from the architecture's
descriptor layout (the same bits tests/host/test-foreign.c uses): for every
LPAE format a walk down to a page with a block beside it and a fault or
two, a 16K-granule stage 1, v7s sections, large and small pages, a
stage 1 nested over a stage 2, plus hostile variants (a loop, a table
shared, a pointer out of the image, a stage-1 table stage 2 does not map).
Run it again after changing the input layout:

    python3 fuzz/gen-foreign-seeds.py fuzz/corpus/fuzz-foreign
"""
import os
import struct
import sys

FORMATS = ["arm-64-lpae-s1", "arm-64-lpae-s2", "arm-32-lpae-s1",
           "arm-32-lpae-s2", "arm-mali-lpae", "arm-v7s"]
# fuzz-foreign.c reg_keys[]
KEYS = ["ttbr", "tcr.tg", "tcr.tsz", "tcr.ips", "mair",
        "vttbr", "vtcr.tg", "vtcr.tsz", "vtcr.ps", "vtcr.sl",
        "transtab", "memattr", "ias", "oas", "quirks",
        "tcr", "nmrr", "prrr", "pgsize_bitmap"]
# fuzz-foreign.c accesses[]: R W X, then with PRIV
R, W, X, RP, WP, XP = range(6)

BASE = 0x10000
MAIR = 0xf404ff44          # Linux's: NC, WBRWA, device, inner-NC outer-WB

# LPAE descriptor bits
TABLE = PAGE = 3
BLOCK = 1
AF = 1 << 10
SH_IS = 3 << 8
UNPRIV = 1 << 6            # stage 1 AP[1]
RDONLY = 1 << 7            # stage 1 AP[2]
XN = 3 << 53
S2_R, S2_W = 1 << 6, 1 << 7
S2_MEMATTR_WB = 0xf << 2


F_NESTED, F_S2_32 = 0x08, 0x10


def regs_block(regs):
    out = bytes([len(regs)])
    for key, value in regs:
        out += bytes([KEYS.index(key)]) + struct.pack("<Q", value)
    return out


def seed(fmt, regs, probes, pa, image, s2_regs=None, s2_32=False):
    f0 = FORMATS.index(fmt)
    if s2_regs is not None:
        f0 |= F_NESTED | (F_S2_32 if s2_32 else 0)
    out = bytes([f0]) + regs_block(regs)
    if s2_regs is not None:
        out += regs_block(s2_regs)
    out += bytes([len(probes)])
    for iova, access in probes:
        out += struct.pack("<Q", iova) + bytes([access])
    return out + struct.pack("<Q", pa) + image


class Image:
    """Memory from BASE, in 64-bit (LPAE) or 32-bit (v7s) entries."""

    def __init__(self, size, width=8):
        self.mem = bytearray(size)
        self.width = width

    def set(self, table_pa, index, value):
        off = table_pa - BASE + index * self.width
        fmt = "<Q" if self.width == 8 else "<I"
        struct.pack_into(fmt, self.mem, off, value)

    def bytes(self):
        return bytes(self.mem)


def lpae_chain(img, tables, s2=False):
    """tables: PAs from the root down; a page and faults in the last."""
    for upper, lower in zip(tables, tables[1:]):
        img.set(upper, 0, lower | TABLE)
    last = tables[-1]
    if s2:
        img.set(last, 1, 0x80001000 | PAGE | AF | S2_R | S2_W | SH_IS |
                S2_MEMATTR_WB)
        img.set(last, 2, 0x80002000 | PAGE | AF | S2_R)       # read-only
        img.set(last, 3, 0x80003000 | PAGE | S2_R)            # AF clear
        img.set(last, 4, (1 << 40) | PAGE | AF | S2_R)        # beyond oas
    else:
        img.set(last, 1, 0x80001000 | PAGE | AF | UNPRIV | SH_IS | (1 << 2))
        img.set(last, 2, 0x80002000 | PAGE | AF | UNPRIV | RDONLY)
        img.set(last, 3, 0x80003000 | PAGE | UNPRIV)           # AF clear
        img.set(last, 4, 0x80004000 | PAGE | AF)               # priv only
        img.set(last, 5, 0x80005000 | PAGE | AF | UNPRIV | XN)
        img.set(last, 6, (1 << 40) | PAGE | AF | UNPRIV)       # beyond oas
    # a 2M block beside the last table
    parent = tables[-2]
    img.set(parent, 1, 0x80200000 | BLOCK | AF |
            ((S2_R | S2_W) if s2 else UNPRIV))


PROBES = [(0x1008, R), (0x2000, W), (0x3000, R), (0x4000, R),
          (0x4000, RP), (0x5000, X), (0x234567, R), (0x6000, R)]


def lpae_seeds():
    out = {}
    # 64-bit stage 1, 4K, ias 39: L1 L2 L3
    t = [BASE, BASE + 0x1000, BASE + 0x2000]
    s1_regs = [("ttbr", BASE), ("tcr.tg", 0), ("tcr.tsz", 64 - 39),
               ("tcr.ips", 2), ("mair", MAIR)]
    img = Image(0x3000)
    lpae_chain(img, t)
    out["64-s1-4k"] = seed("arm-64-lpae-s1", s1_regs, PROBES, BASE,
                           img.bytes())
    # hostile: a loop back to the root, L2 shared, a pointer out of it
    img.set(t[0], 2, BASE | TABLE)
    img.set(t[0], 3, t[1] | TABLE)
    img.set(t[0], 4, 0x7000000 | TABLE)
    out["64-s1-4k-hostile"] = seed(
        "arm-64-lpae-s1", s1_regs,
        [(2 << 30, R), (3 << 30, R), (4 << 30, R), (0x1000, W)], BASE,
        img.bytes())
    # TTBR1 with HD: the top of the address space, no AF faults
    img = Image(0x3000)
    lpae_chain(img, t)
    out["64-s1-4k-ttbr1-hd"] = seed(
        "arm-64-lpae-s1",
        [("ttbr", BASE), ("tcr.tg", 2), ("tcr.tsz", 64 - 39),
         ("tcr.ips", 2), ("quirks", (1 << 5) | (1 << 7))],
        [((~0 << 39 | iova) & (2**64 - 1), a) for iova, a in PROBES],
        BASE, img.bytes())
    # 64-bit stage 1, 16K, ias 36: two levels of 2048 entries
    img = Image(0x8000)
    img.set(BASE, 0, (BASE + 0x4000) | TABLE)
    img.set(BASE + 0x4000, 1, 0x80004000 | PAGE | AF | UNPRIV)
    img.set(BASE, 1, 0x82000000 | BLOCK | AF | UNPRIV)
    out["64-s1-16k"] = seed(
        "arm-64-lpae-s1",
        [("ttbr", BASE), ("tcr.tg", 2), ("tcr.tsz", 64 - 36),
         ("tcr.ips", 2), ("mair", MAIR)],
        [(0x4000, R), (0x2000000, W), (0x8000, R)], BASE, img.bytes())
    # 64-bit stage 2, 4K, ias 40 from level 1: two concatenated roots
    img = Image(0x4000)
    lpae_chain(img, [BASE, BASE + 0x2000, BASE + 0x3000], s2=True)
    s2_regs = [("vttbr", BASE), ("vtcr.tg", 0), ("vtcr.tsz", 64 - 40),
               ("vtcr.ps", 2), ("vtcr.sl", 1)]
    out["64-s2-4k"] = seed("arm-64-lpae-s2", s2_regs, PROBES, BASE,
                           img.bytes())
    # the same as the 32-bit stage 2
    out["32-s2-4k"] = seed("arm-32-lpae-s2", s2_regs, PROBES, BASE,
                           img.bytes())
    # 32-bit stage 1, ias 32: a 4-entry root at level 1
    img = Image(0x3000)
    lpae_chain(img, t)
    out["32-s1-4k"] = seed(
        "arm-32-lpae-s1",
        [("ttbr", BASE), ("tcr.tg", 0), ("tcr.tsz", 32), ("tcr.ips", 2),
         ("mair", MAIR)], PROBES, BASE, img.bytes())
    # Mali: four levels, leaves of type 1 at every level
    img = Image(0x4000)
    m = [BASE, BASE + 0x1000, BASE + 0x2000, BASE + 0x3000]
    for upper, lower in zip(m, m[1:]):
        img.set(upper, 0, lower | TABLE)
    img.set(m[3], 1, 0x80001000 | BLOCK | (3 << 6) | (1 << 2))
    img.set(m[2], 1, 0x80200000 | BLOCK | (1 << 6))
    out["mali"] = seed(
        "arm-mali-lpae",
        [("transtab", BASE | 3), ("memattr", 0x4848484848484848),
         ("ias", 48), ("oas", 40)], PROBES, BASE, img.bytes())
    return out


def nested_seeds():
    """A 4K stage 1 whose tables are IPAs, over a 4K stage 2 (ias 40 from
    level 1) mapping IPA [0, 2M) to PA 0 and [2G, 3G) to PA 2G."""
    img = Image(0x7000)
    s2_root, s2_l2 = BASE, BASE + 0x2000
    rw = AF | S2_R | S2_W | S2_MEMATTR_WB
    img.set(s2_root, 0, s2_l2 | TABLE)
    img.set(s2_l2, 0, 0 | BLOCK | rw)
    img.set(s2_root, 2, 0x80000000 | BLOCK | rw)
    s1 = [BASE + 0x4000, BASE + 0x5000, BASE + 0x6000]
    lpae_chain(img, s1)
    img.set(s1[0], 1, 0x40000000 | TABLE)      # an IPA stage 2 lacks
    s1_regs = [("ttbr", s1[0]), ("tcr.tg", 0), ("tcr.tsz", 64 - 39),
               ("tcr.ips", 2), ("mair", MAIR)]
    s2_regs = [("vttbr", s2_root), ("vtcr.tg", 0), ("vtcr.tsz", 64 - 40),
               ("vtcr.ps", 2), ("vtcr.sl", 1)]
    probes = PROBES[:6] + [(1 << 30, R), (0x234567, W)]
    return {
        "nested-64-s1-over-64-s2": seed("arm-64-lpae-s1", s1_regs, probes,
                                        BASE, img.bytes(), s2_regs),
        "nested-32-s1-over-32-s2": seed(
            "arm-32-lpae-s1", [("ttbr", s1[0]), ("tcr.tg", 0),
                               ("tcr.tsz", 32), ("tcr.ips", 2)],
            probes, BASE, img.bytes(), s2_regs, s2_32=True),
    }


def v7s_seeds():
    """Short descriptors: a 16K L1 of 4096 entries, 1K L2s of 256."""
    l1, l2 = BASE, BASE + 0x4000
    ap = (1 << 4) | (1 << 5)       # AP0 (access flag) and AP1 (unpriv)
    ro = 1 << 9                    # AP2: read-only
    img = Image(0x4400, width=4)
    img.set(l1, 0, l2 | 1)                              # page table
    img.set(l2, 1, 0x80001000 | 2 | ap)                 # small page
    img.set(l2, 2, 0x80002000 | 2 | (1 << 4))           # privileged
    img.set(l2, 3, 0x80003000 | 2 | ap | ro)
    for i in range(16, 32):                             # large page
        img.set(l2, i, 0x80010000 | 1 | ap)
    img.set(l1, 1, 0x80100000 | 2 | ap << 6)            # section
    for i in range(16, 32):                             # supersection
        img.set(l1, i, 0x81000000 | 2 | (1 << 18) | ap << 6)
    regs = [("ttbr", l1), ("tcr", 0), ("nmrr", 0), ("prrr", 0)]
    probes = [(0x1000, R), (0x10000, W), (0x100000, R), (0x1000000, R),
              (0x2000, R), (0x2000, RP), (0x3000, W), (0x4000, R)]
    out = {"v7s": seed("arm-v7s", regs, probes, BASE, img.bytes())}
    img.set(l1, 2, l1 | 1)                              # L1 as an L2
    img.set(l1, 3, l2 | 1)                              # L2 shared
    out["v7s-hostile"] = seed("arm-v7s", regs, probes + [(0x200000, R)],
                              BASE, img.bytes())
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/fuzz-foreign"
    os.makedirs(outdir, exist_ok=True)
    seeds = lpae_seeds()
    seeds.update(v7s_seeds())
    seeds.update(nested_seeds())
    for name, data in sorted(seeds.items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
