// A server of exactly known capacity: `slots` requests served at once, each held `holdMs` by a
// timer (no CPU), the rest waiting in order. At most slots × 1000 / holdMs requests a second.
// With `wrongPerThousand`, it is also a classifier of exactly known accuracy: to a body
// {"x": n} it answers {"label": n % 10}, except for the n whose (n × 7919) mod 1000 is below
// wrongPerThousand, which get (n + 1) % 10. Over n = 0..999 (7919 is prime to 1000, so n × 7919 mod
// 1000 takes every value once) exactly wrongPerThousand answers are wrong.
// With `perRowMs`, a request of a batch {"rows": [...]} is held holdMs + perRowMs × its rows: at most
// slots × rows × 1000 / (holdMs + perRowMs × rows) rows a second.
//   node known-capacity.js <port> <slots> <holdMs> [wrongPerThousand|-] [perRowMs]   (port 0: any free one; it prints `listening <port>`)
const http = require('node:http');
const [port, slots, holdMs, wrongPerThousand, perRowMs] = process.argv.slice(2).map(Number);
/** How long a request is held: by its rows, where the server was given a time per row. */
function holdOf(body) {
  if (Number.isNaN(perRowMs) || perRowMs === undefined) return holdMs;
  try {
    return holdMs + perRowMs * JSON.parse(body).rows.length;
  } catch {
    return holdMs;
  }
}
let busy = 0;
const waiting = [];
const release = () => {
  const next = waiting.shift();
  if (next) next();
  else busy--;
};
/** The answer to a request body: `ok`, or the classifier's label. */
function answer(body) {
  if (Number.isNaN(wrongPerThousand)) return 'ok';
  let n = 0;
  try {
    n = Number(JSON.parse(body).x) || 0;
  } catch {
    // Not JSON (a load payload): answered as example 0.
  }
  const wrong = (n * 7919) % 1000 < wrongPerThousand;
  return JSON.stringify({ label: (n + (wrong ? 1 : 0)) % 10 });
}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const body = answer(text);
    const hold = holdOf(text);
    const serve = () =>
      setTimeout(() => {
        res.end(body);
        release();
      }, hold);
    if (busy < slots) {
      busy++;
      serve();
    } else waiting.push(serve);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
