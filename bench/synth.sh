#!/usr/bin/env bash
# Wall time of `npx cdk synth` for the example app (three stacks, cdk-nag on), repeated.
# Assets are built first, so the runs time synthesis, not the one-off esbuild step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_VERSION_CHECK=1
runs=${RUNS:-5}
npx tsx scripts/build-assets.ts --if-stale
times=()
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  npx cdk synth -q > /dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
echo "cdk synth (3 stacks, cdk-nag): runs(ms)=${times[*]} median=${median} ms"
mkdir -p bench/results
printf '{"when":"%s","runsMs":[%s],"medianMs":%s}\n' "$(date -u +%FT%TZ)" "$(IFS=,; echo "${times[*]}")" "$median" > bench/results/synth.json
