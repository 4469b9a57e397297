#!/usr/bin/env bash
# docs/api-reference.md must be regenerated whenever crds/ change.
exec /usr/bin/python3 "$(dirname "$0")/../../scripts/gen-api-reference" --check
