#!/bin/sh
# Probes which helpers each BPF program type may call on this kernel and writes
# server/data/helper-availability.json (see probe-helpers.c for the method).
# Needs root (or CAP_BPF + CAP_SYS_ADMIN + CAP_PERFMON), gcc, libbpf-dev, libelf-dev, zlib1g-dev.
# Usage: server/scripts/probe-helpers.sh [out.json]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../data/helper-availability.json"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -Wall -o "$tmp/probe-helpers" "$here/probe-helpers.c" -lbpf -lelf -lz
"$tmp/probe-helpers" > "$tmp/out.json"
# Validate before replacing the committed table.
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$tmp/out.json"
mv "$tmp/out.json" "$out"
echo "wrote $out" >&2
