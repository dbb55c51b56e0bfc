#!/usr/bin/env bash
# Builds app.py into an http part with componentize-py (from the venv
# scripts/test makes in .venv), against the wasi:http/proxy world that
# Lodge's wasmtime-wasi-http provides: its WIT is found through `cargo
# metadata`, so nothing is vendored here.
#
#   tests/guests/http-py/build.sh OUTPUT.wasm
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:-$repo/tests/guests/target/http_py.wasm}"
componentize_py="$here/.venv/bin/componentize-py"
if [ ! -x "$componentize_py" ]; then
  echo "componentize-py is missing: run scripts/test, or python3 -m venv $here/.venv && $here/.venv/bin/pip install -r $here/requirements.txt" >&2
  exit 1
fi
wit="$("${CARGO:-cargo}" metadata --format-version 1 --manifest-path "$repo/Cargo.toml" | python3 -c '
import json, os, sys
packages = json.load(sys.stdin)["packages"]
http = next(p for p in packages if p["name"] == "wasmtime-wasi-http")
print(os.path.join(os.path.dirname(http["manifest_path"]), "wit"))
')"
# The world's WASI version, e.g. 0.2.12, from the WIT itself.
world="$(grep -o 'wasi:http/proxy@[0-9.]*' "$wit/world.wit")"
mkdir -p "$(dirname "$out")"
"$componentize_py" -q -d "$wit" -w "$world" componentize -p "$here" app -o "$out"
echo "built $out ($(stat -c %s "$out") bytes)"
