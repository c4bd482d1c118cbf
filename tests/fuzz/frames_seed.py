#!/usr/bin/env python3
"""Turns a real events file into inputs of the events_frames harness.

usage: frames_seed.py EVENTS_FILE OUT_PREFIX

Writes OUT_PREFIX-whole (flag 0: the description and then the events as
frame contents of their own) and OUT_PREFIX-events (flag 1: the harness puts
its own description first; one frame per up to 4 events), splitting the
decompressed stream (zstd -dc) at Cap'n Proto stream-framing boundaries.
"""
import struct
import subprocess
import sys


def messages(data):
    at = 0
    while at + 4 <= len(data):
        count = struct.unpack_from("<I", data, at)[0] + 1
        table = 4 + 4 * count
        table += table % 8
        sizes = struct.unpack_from("<%dI" % count, data, at + 4)
        end = at + table + 8 * sum(sizes)
        yield data[at:end]
        at = end


def chunk(content):
    assert len(content) < 65536
    return struct.pack("<H", len(content)) + content


def main():
    stream = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True, capture_output=True).stdout
    found = list(messages(stream))
    description, events = found[0], found[1:]
    groups = [b"".join(events[i:i + 4]) for i in range(0, len(events), 4)]
    with open(sys.argv[2] + "-whole", "wb") as out:
        out.write(b"\0" + chunk(description) + b"".join(chunk(g) for g in groups))
    with open(sys.argv[2] + "-events", "wb") as out:
        out.write(b"\1" + b"".join(chunk(g) for g in groups))


if __name__ == "__main__":
    main()
