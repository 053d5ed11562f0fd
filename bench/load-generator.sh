#!/usr/bin/env bash
# Highest request rate of modelsweep's load generator against autocannon and wrk, closed loop:
# the same loopback server (pinned to core 0), the same number of keep-alive connections, each
# client pinned to core 1, alternating rounds. Two servers: node:http (a realistic target, which
# all three clients can saturate) and a raw socket server that answers with precomputed bytes, so
# that the clients, not the server, set the rate. Prints req/s per tool and the ratios.
#
#   npm run bench:load-generator            (CONNECTIONS=32 SECONDS_PER_RUN=5 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${CONNECTIONS:-32}
seconds=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}
if ! command -v wrk > /dev/null; then
  echo "installing wrk (Debian package)" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) > /dev/null
fi

run_modelsweep() {
  taskset -c 1 node bin/modelsweep.cjs load --url "$1" --method GET --concurrency "$connections" \
    --duration "${seconds}s" --warmup 1s --json --quiet | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).phases[0].achievedRps.toFixed(0)))'
}
run_autocannon() {
  taskset -c 1 node node_modules/autocannon/autocannon.js -c "$connections" -d "$seconds" -j "$1" 2> /dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests.average.toFixed(0)))'
}
run_wrk() {
  taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" "$1" | awk '/Requests\/sec/ {printf "%.0f\n", $2}'
}

declare -A results
port=18200
for server in hello raw-hello; do
  port=$((port + 1))
  taskset -c 0 node "bench/servers/$server.js" "$port" > /dev/null &
  pid=$!
  sleep 1
  for round in $(seq "$rounds"); do
    for tool in modelsweep autocannon wrk; do
      rps=$("run_$tool" "http://127.0.0.1:${port}/")
      results[$server.$tool]+="$rps "
      echo "$server round $round $tool: $rps req/s" >&2
    done
  done
  kill "$pid"
done

node - "$connections" "$seconds" "$rounds" "${results[hello.modelsweep]}" "${results[hello.autocannon]}" "${results[hello.wrk]}" \
  "${results[raw-hello.modelsweep]}" "${results[raw-hello.autocannon]}" "${results[raw-hello.wrk]}" <<'JS'
const [connections, seconds, rounds, ...runs] = process.argv.slice(2);
const parse = (s) => s.trim().split(/\s+/).map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const servers = {};
['node:http server', 'raw socket server'].forEach((server, i) => {
  const [ms, ac, wrk] = runs.slice(i * 3, i * 3 + 3).map(parse);
  const m = { modelsweep: median(ms), autocannon: median(ac), wrk: median(wrk) };
  servers[server] = { medianRps: m, ratioToAutocannon: +(m.modelsweep / m.autocannon).toFixed(2), ratioToWrk: +(m.modelsweep / m.wrk).toFixed(2), runs: { modelsweep: ms, autocannon: ac, wrk } };
  console.log(`${server}: median req/s modelsweep ${m.modelsweep}, autocannon ${m.autocannon}, wrk ${m.wrk}; ` +
    `modelsweep / autocannon = ${servers[server].ratioToAutocannon}, modelsweep / wrk = ${servers[server].ratioToWrk}`);
});
require('./bench/write-result.cjs').writeResult('load-generator', [], { connections: +connections, secondsPerRun: +seconds, rounds: +rounds, servers });
JS
