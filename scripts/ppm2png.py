#!/usr/bin/env python3
"""Convert a binary PPM (P6, 8-bit) to PNG with the standard library only.

Used for the README's pictures: build/tests/bench/upscale_crop ... | python3 scripts/ppm2png.py OUT.png
"""
import struct
import sys
import zlib


def main():
    data = sys.stdin.buffer.read()
    fields = data.split(maxsplit=4)[:4]  # magic, width, height, maxval
    if len(fields) < 4:
        sys.exit("not a PPM")
    pos = 0
    for f in fields:  # the pixels start one whitespace byte after maxval
        pos = data.index(f, pos) + len(f)
    pos += 1
    if fields[0] != b"P6" or fields[3] != b"255":
        sys.exit("not an 8-bit binary PPM")
    w, h = int(fields[1]), int(fields[2])
    if len(data) < pos + 3 * w * h:
        sys.exit("PPM is truncated")
    rows = b"".join(b"\0" + data[pos + y * 3 * w:pos + (y + 1) * 3 * w] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    with open(sys.argv[1], "wb") as f:
        f.write(png)


main()
