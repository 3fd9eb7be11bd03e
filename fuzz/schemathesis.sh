#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis (PyPI), driven by the server's own
# /openapi.json: a fresh `sds serve` (target/debug/sds, built beforehand)
# on a temporary data dir and an ephemeral loopback port, one small data
# source loaded so that the generated requests reach the handlers, and the
# master key given to every request. Not a test: run it by hand.
#
#   cargo build && fuzz/schemathesis.sh [MAX_EXAMPLES]   (default 50)
#
# schemathesis is installed once into a venv in the CI cache when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
max_examples="${1:-50}"
st="$(command -v st || true)"
if [ -z "$st" ]; then
  venv="${SDS_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sds-ci}/schemathesis-venv"
  if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis
  fi
  st="$venv/bin/st"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
target/debug/sds serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/stdout" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do grep -q '^sds listening on ' "$work/stdout" && break; sleep 0.1; done
base="$(sed -n 's/^sds listening on //p' "$work/stdout")"
master="$(sed -n 's/.*master key.*: *//p' "$work/stdout")"

printf 'Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n1,Alpha,47.6,-122.3\n2,Beta,47.61,-122.31\n' >"$work/shops.csv"
status_url="$(curl -sS -o /dev/null -w '%header{location}' -H 'content-type: application/octet-stream' --data-binary @"$work/shops.csv" \
  "$base/REST/v1/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key=$master")"
access_id=""
for _ in $(seq 100); do
  access_id="$(curl -sS "$status_url?output=json&key=$master" | python3 -c '
import json, sys
job = json.load(sys.stdin)["resourceSets"][0]["resources"][0]
links = [link["url"] for link in job["links"] if link["role"] == "dataSource"]
print(links[0].split("/")[-2] if job["status"] == "Completed" and links else "")')"
  [ -n "$access_id" ] && break
  sleep 0.1
done
job_id="${status_url##*/}"

cat >"$work/schemathesis.toml" <<TOML
[parameters]
"query.key" = "$master"
"path.accessId" = "$access_id"
"path.dataSourceName" = "Shops"
"path.entityTypeName" = "Shops"
"path.jobId" = "$job_id"
TOML
"$st" --config-file "$work/schemathesis.toml" run "$base/openapi.json" --url "$base" \
  --checks all --max-examples "$max_examples" --request-timeout 20 || status=$?
echo "server log: $(grep -c '"level":"ERROR"\|ERROR' "$work/server.log" || true) error line(s)"
grep 'ERROR' "$work/server.log" | head -20 || true
exit "${status:-0}"
