#!/usr/bin/env python3
"""One console client for the benchmark: reads until it holds N payload bytes.

Usage: reader.py SOCKET BYTES MODE   (MODE: rtty = speak rtty/1 and unframe DATA;
raw = count bytes as they are, for the socat baseline). Prints seconds from the first
byte to the last, and exits 1 if the bytes are not the expected pattern.
"""
import socket, struct, sys, time

path, want, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
if mode == "rtty":
    hello = b"rtty/1 noreplay"
    s.sendall(struct.pack(">HH", 16, len(hello)) + hello)
    who = b"bench@pipe"
    s.sendall(struct.pack(">HH", 6, len(who)) + who)
print("ready", flush=True)
buf = bytearray(1 << 20)
view = memoryview(buf)
pending = bytearray()
got = 0
first = None
digest = 0
PATTERN = bytes(range(256)) * 80  # the guest writes bytes 0..255 repeated
while got < want:
    n = s.recv_into(view[:16384] if mode == "raw" else view)
    if n == 0:
        print(f"closed after {got} bytes", file=sys.stderr)
        sys.exit(1)
    if first is None:
        first = time.monotonic()
    if mode == "raw":
        o = got % 256
        if view[:n] != PATTERN[o:o + n]:
            print(f"wrong bytes at offset {got}", file=sys.stderr)
            sys.exit(1)
        got += n
        continue
    pending += view[:n]
    pos = 0
    while len(pending) - pos >= 4:
        f, i = struct.unpack_from(">HH", pending, pos)
        kind, query = f & 0xFF, f & 0x100
        has_payload = kind in (1, 8) or kind >= 16
        length = i if has_payload else 0
        if len(pending) - pos < 4 + length:
            break
        if kind == 1:
            o = got % 256
            if pending[pos + 4:pos + 4 + length] != PATTERN[o:o + length]:
                print(f"wrong bytes at offset {got}", file=sys.stderr)
                sys.exit(1)
            got += length
        pos += 4 + length
    del pending[:pos]
elapsed = time.monotonic() - first
print(f"{elapsed:.6f}", flush=True)
