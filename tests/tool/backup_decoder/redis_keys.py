#!/usr/bin/python3
"""Lists the keys of a shared-Redis backup's plaintext ("servicedb-redis-keys" v1), written from
docs/backup-format.md ("Dump kinds") alone.

Usage: redis_keys.py PLAINTEXT [--check-prefix PREFIX]
Prints the header as JSON, then one JSON line per record: key (as a latin-1 string), expireAtMs and
payload size. With --check-prefix, exits 1 naming the first key that does not start with PREFIX.
"""
import argparse
import json
import struct
import sys


def fail(msg):
    print("redis_keys.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("plaintext")
    ap.add_argument("--check-prefix")
    args = ap.parse_args()
    data = open(args.plaintext, "rb").read()
    if data[:8] != b"SDBRKEY1":
        fail("bad magic")
    (hlen,) = struct.unpack(">I", data[8:12])
    header = json.loads(data[12:12 + hlen].decode("utf-8"))
    if header.get("format") != "servicedb-redis-keys" or header.get("version") != 1:
        fail("unsupported header")
    prefix = header["prefix"].encode("utf-8")
    print(json.dumps(header))
    pos = 12 + hlen
    count = 0
    while True:
        if pos >= len(data):
            fail("no end record")
        kind = data[pos]
        if kind == 0:
            (n,) = struct.unpack(">Q", data[pos + 1:pos + 9])
            if n != count:
                fail("end record says %d, read %d" % (n, count))
            if pos + 9 != len(data):
                fail("data after the end record")
            break
        if kind != 1:
            fail("unknown record type %d" % kind)
        (klen,) = struct.unpack(">I", data[pos + 1:pos + 5])
        key = data[pos + 5:pos + 5 + klen]
        (expire,) = struct.unpack(">q", data[pos + 5 + klen:pos + 13 + klen])
        (plen,) = struct.unpack(">Q", data[pos + 13 + klen:pos + 21 + klen])
        pos += 21 + klen + plen
        if pos > len(data):
            fail("record %d is cut short" % count)
        if not key.startswith(prefix):
            fail("record %d: key %r is outside the header's prefix" % (count, key))
        if args.check_prefix is not None and not key.startswith(args.check_prefix.encode("utf-8")):
            fail("record %d: key %r does not start with %r" % (count, key, args.check_prefix))
        print(json.dumps({"key": key.decode("latin-1"), "expireAtMs": expire, "payloadSize": plen}))
        count += 1


if __name__ == "__main__":
    main()
