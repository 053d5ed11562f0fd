#!/usr/bin/env bash
# Wall time of `npx cdk synth` for the example app (three stacks, cdk-nag on), repeated.
# Assets are built first, so the runs time synthesis, not the one-off esbuild step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_VERSION_CHECK=1
runs=${RUNS:-5}
npx tsx scripts/build-assets.ts --if-stale
# Each configuration: with aws-cdk-lib's CloudFormation validator (the default) and without it.
medians=()
all_runs=()
for validation in default false; do
  times=()
  for i in $(seq "$runs"); do
    start=$(date +%s%N)
    if [ "$validation" = default ]; then env -u CDK_VALIDATION npx cdk synth -q > /dev/null; else CDK_VALIDATION=false npx cdk synth -q > /dev/null; fi
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  echo "cdk synth (3 stacks, cdk-nag, CDK_VALIDATION $validation): runs(ms)=${times[*]} median=${median} ms"
  medians+=("$median")
  all_runs+=("[$(IFS=,; echo "${times[*]}")]")
done
node -e "require('./bench/write-result.cjs').writeResult('synth', [], { runs: $runs, validation: { medianMs: ${medians[0]}, runsMs: ${all_runs[0]} }, noValidation: { medianMs: ${medians[1]}, runsMs: ${all_runs[1]} } })"
