#!/usr/bin/env bash
# Highest request rate of modelsweep's load generator against autocannon and wrk: the same
# loopback server (pinned to core 0), the same number of keep-alive connections, each client
# pinned to core 1, alternating rounds. Prints req/s per tool and the ratios.
#
#   npm run bench:load-generator            (CONNECTIONS=32 SECONDS=5 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${CONNECTIONS:-32}
seconds=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}
port=18200
url="http://127.0.0.1:${port}/"
if ! command -v wrk > /dev/null; then
  echo "installing wrk (Debian package)" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) > /dev/null
fi
taskset -c 0 node bench/servers/hello.js "$port" > /dev/null &
server=$!
trap 'kill $server' EXIT
sleep 1

run_modelsweep() {
  taskset -c 1 node bin/modelsweep.cjs load --url "$url" --method GET --concurrency "$connections" \
    --duration "${seconds}s" --warmup 1s --json --quiet | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).phases[0].achievedRps.toFixed(0)))'
}
run_autocannon() {
  taskset -c 1 node node_modules/autocannon/autocannon.js -c "$connections" -d "$seconds" -j "$url" 2> /dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests.average.toFixed(0)))'
}
run_wrk() {
  taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" "$url" | awk '/Requests\/sec/ {printf "%.0f\n", $2}'
}

declare -A results
for round in $(seq "$rounds"); do
  for tool in modelsweep autocannon wrk; do
    rps=$("run_$tool")
    results[$tool]+="$rps "
    echo "round $round $tool: $rps req/s" >&2
  done
done
node - "${results[modelsweep]}" "${results[autocannon]}" "${results[wrk]}" "$connections" "$seconds" "$rounds" <<'JS'
const [ms, ac, wrk, connections, seconds, rounds] = process.argv.slice(2);
const parse = (s) => s.trim().split(/\s+/).map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = { modelsweep: median(parse(ms)), autocannon: median(parse(ac)), wrk: median(parse(wrk)) };
const out = { when: new Date().toISOString(), connections: +connections, secondsPerRun: +seconds, rounds: +rounds, medianRps: m,
  ratioToAutocannon: +(m.modelsweep / m.autocannon).toFixed(2), ratioToWrk: +(m.modelsweep / m.wrk).toFixed(2), runs: { modelsweep: parse(ms), autocannon: parse(ac), wrk: parse(wrk) } };
require('node:fs').mkdirSync('bench/results', { recursive: true });
require('node:fs').writeFileSync('bench/results/load-generator.json', JSON.stringify(out, null, 2) + '\n');
console.log(`median req/s: modelsweep ${m.modelsweep}, autocannon ${m.autocannon}, wrk ${m.wrk}`);
console.log(`modelsweep / autocannon = ${out.ratioToAutocannon}, modelsweep / wrk = ${out.ratioToWrk}`);
JS
