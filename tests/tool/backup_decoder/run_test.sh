#!/usr/bin/env bash
# The independent decoder (decode.py, from docs/backup-format.md only) reads what our library writes,
# and refuses a tampered stream and manifest.
set -euo pipefail
make_sample=$1
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
key=$(openssl rand -hex 32)
head -c 3000000 /dev/urandom >"$tmp/plain"
"$make_sample" "$key" key-2026 "$tmp/plain" "$tmp/stream" "$tmp/manifest.json" 65536
/usr/bin/python3 "$here/decode.py" --key-id key-2026 --key-hex "$key" --manifest "$tmp/manifest.json" --out "$tmp/out" "$tmp/stream"
cmp "$tmp/plain" "$tmp/out"
echo "decoded output equals the input"

# A flipped byte in the middle must be refused, naming the chunk.
cp "$tmp/stream" "$tmp/bad"
printf '\xff' | dd of="$tmp/bad" bs=1 seek=1500000 conv=notrunc status=none
if /usr/bin/python3 "$here/decode.py" --key-id key-2026 --key-hex "$key" "$tmp/bad" 2>"$tmp/err"; then
  echo "FAIL: tampered stream accepted"; exit 1
fi
# The refusal must be the authentication failure of a named chunk, not any other error.
if ! grep -qE "chunk [0-9]+: authentication failed" "$tmp/err"; then
  echo "FAIL: tampered stream refused for the wrong reason: $(cat "$tmp/err")"; exit 1
fi
echo "tampered stream refused: $(cat "$tmp/err")"

# An altered manifest must be refused.
sed 's/"engine":"postgres"/"engine":"redis"/' "$tmp/manifest.json" >"$tmp/m2"
grep -q '"engine":"redis"' "$tmp/m2" || { echo "FAIL: the manifest was not altered"; exit 1; }
if /usr/bin/python3 "$here/decode.py" --key-id key-2026 --key-hex "$key" --manifest "$tmp/m2" "$tmp/stream" 2>"$tmp/err2"; then
  echo "FAIL: altered manifest accepted"; exit 1
fi
if ! grep -q "manifest mac does not verify" "$tmp/err2"; then
  echo "FAIL: altered manifest refused for the wrong reason: $(cat "$tmp/err2")"; exit 1
fi
echo "altered manifest refused: $(cat "$tmp/err2")"
