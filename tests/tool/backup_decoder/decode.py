#!/usr/bin/python3
"""An independent decoder of the servicedb backup stream, written from docs/backup-format.md alone.

Usage: decode.py --key-id ID --key-hex HEX STREAM [--manifest FILE] [--out FILE]
Exits 0 and writes the plaintext when the stream (and manifest, if given) authenticate; exits 1 with
the reason otherwise. Uses Debian's python3-cryptography.
"""
import argparse
import base64
import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.exceptions import InvalidTag


def fail(msg):
    print("decode.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stream")
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--key-hex", required=True)
    ap.add_argument("--manifest")
    ap.add_argument("--out")
    args = ap.parse_args()
    policy_key = bytes.fromhex(args.key_hex)
    data = open(args.stream, "rb").read()

    if data[:8] != b"SDBKUP01":
        fail("bad magic")
    (hlen,) = struct.unpack(">I", data[8:12])
    header_bytes = data[12:12 + hlen]
    header = json.loads(header_bytes.decode("utf-8"))
    if header.get("format") != "servicedb-backup" or header.get("version") != 1 or header.get("cipher") != "AES-256-GCM":
        fail("unsupported header")
    if header["keyId"] != args.key_id:
        fail("stream wants key id %r" % header["keyId"])
    wrapped = base64.b64decode(header["wrappedKey"], validate=True)
    wrap_aad = b"servicedb-backup-keywrap-v1\x00" + header["keyId"].encode() + b"\x00" + header["backupId"].encode()
    try:
        data_key = AESGCM(policy_key).decrypt(wrapped[:12], wrapped[12:], wrap_aad)
    except InvalidTag:
        fail("data key does not unwrap")
    h = hashlib.sha256(header_bytes).digest()
    digest = hashlib.sha256(header_bytes)
    gcm = AESGCM(data_key)
    chunk_size = header["chunkSize"]
    pos = 12 + hlen
    index = 0
    plain = bytearray()
    final = False
    while not final:
        if pos + 4 > len(data):
            fail("truncated before chunk %d" % index)
        (word,) = struct.unpack(">I", data[pos:pos + 4])
        final = bool(word & 0x80000000)
        length = word & 0x7FFFFFFF
        if length > chunk_size or (not final and length != chunk_size):
            fail("chunk %d: bad length" % index)
        body = data[pos + 4:pos + 4 + length + 16]
        if len(body) != length + 16:
            fail("truncated in chunk %d" % index)
        nonce = b"\x00\x00\x00\x00" + struct.pack(">Q", index)
        aad = h + struct.pack(">Q", index) + (b"\x01" if final else b"\x00")
        try:
            plain += gcm.decrypt(nonce, body, aad)
        except InvalidTag:
            fail("chunk %d: authentication failed" % index)
        digest.update(body[-16:])
        pos += 4 + length + 16
        index += 1
    if pos != len(data):
        fail("data after the final chunk")
    digest_text = "sha256:" + digest.hexdigest()

    if args.manifest:
        manifest = json.load(open(args.manifest))
        mac = manifest.pop("mac")
        manifest_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                            info=b"servicedb-backup-manifest-v1").derive(data_key)
        canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        want = hmac.new(manifest_key, canonical, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, mac):
            fail("manifest mac does not verify")
        if manifest.get("digest") != digest_text:
            fail("manifest digest %s != stream digest %s" % (manifest.get("digest"), digest_text))
    if args.out:
        open(args.out, "wb").write(plain)
    print("ok chunks=%d bytes=%d digest=%s" % (index, len(plain), digest_text))


if __name__ == "__main__":
    main()
