#!/usr/bin/env bash
# Latency accuracy of modelsweep's load generator against targets whose latency distribution is
# known, beside autocannon (closed loop, as most tools measure) in the same run:
#   1. every request waits U(5, 15) ms: true p50 10 ms, p90 14 ms, p99 14.9 ms (+ loopback overhead)
#   2. a 500 ms stall every 2 s, requests otherwise instant: for a steady arrival rate the truth is
#      p90 ≈ 300 ms and p99 ≈ 480 ms (a quarter of arrivals land in a stall and wait for its end)
# Servers on core 0, clients on core 1. Results in bench/results/latency-accuracy.json.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_RUN:-10}
run_case() { # name server-args modelsweep-rate autocannon-connections
  local name=$1 args=$2 rate=$3 conns=$4 port=18300
  taskset -c 0 node bench/servers/known-latency.js $port $args > /dev/null &
  local server=$!
  sleep 1
  local ms ac
  ms=$(taskset -c 1 node bin/modelsweep.cjs load --url "http://127.0.0.1:$port/" --method GET --rate "$rate" --arrivals constant \
    --duration "${seconds}s" --warmup 1s --json --quiet | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const l=JSON.parse(s).phases[0].latencyMs;console.log(JSON.stringify({p50:l.p50,p90:l.p90,p99:l.p99,max:l.max}))})')
  ac=$(taskset -c 1 node node_modules/autocannon/autocannon.js -c "$conns" -d "$seconds" -j "http://127.0.0.1:$port/" 2> /dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const l=JSON.parse(s).latency;console.log(JSON.stringify({p50:l.p50,p90:l.p90,p99:l.p99,max:l.max}))})')
  kill $server
  echo "{\"case\":\"$name\",\"modelsweepOpenLoop\":$ms,\"autocannonClosedLoop\":$ac}"
}
uniform=$(run_case "uniform 5-15 ms" "uniform 5 15" 100 1)
stall=$(run_case "500 ms stall every 2 s" "stall 2000 500" 100 1)
node - "$uniform" "$stall" <<'JS'
const cases = process.argv.slice(2).map((s) => JSON.parse(s));
const truth = { 'uniform 5-15 ms': { p50: 10, p90: 14, p99: 14.9 }, '500 ms stall every 2 s': { p50: 0, p90: 300, p99: 480 } };
for (const c of cases) {
  const t = truth[c.case];
  console.log(`\n${c.case}`);
  console.log('           truth    modelsweep (open loop)   autocannon (closed loop)');
  for (const p of ['p50', 'p90', 'p99']) {
    console.log(`  ${p.padEnd(5)} ${String(t[p]).padStart(7)} ms ${c.modelsweepOpenLoop[p].toFixed(1).padStart(12)} ms ${String(c.autocannonClosedLoop[p]).padStart(18)} ms`);
  }
  c.truth = t;
}
require('./bench/write-result.cjs').writeResult('latency-accuracy', [], { cases });
JS
