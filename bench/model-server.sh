#!/usr/bin/env bash
# Model server overhead against raw onnxruntime, pinned to one core (ORT uses one thread).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx scripts/build-assets.ts --if-stale
core=$(( $(nproc) - 1 ))
exec taskset -c "$core" npx tsx bench/model-server.ts "$@"
