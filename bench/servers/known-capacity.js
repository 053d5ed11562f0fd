// A server of exactly known capacity: `slots` requests served at once, each held `holdMs` by a
// timer (no CPU), the rest waiting in order. At most slots × 1000 / holdMs requests a second.
// With `wrongPerThousand`, it is also a classifier of exactly known accuracy: to a body
// {"x": n} it answers {"label": n % 10}, except for the n whose (n × 7919) mod 1000 is below
// wrongPerThousand, which get (n + 1) % 10. Over n = 0..999 (7919 is prime to 1000, so n × 7919 mod
// 1000 takes every value once) exactly wrongPerThousand answers are wrong.
//   node known-capacity.js <port> <slots> <holdMs> [wrongPerThousand]   (port 0: any free one; it prints `listening <port>`)
const http = require('node:http');
const [port, slots, holdMs, wrongPerThousand] = process.argv.slice(2).map(Number);
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
    const body = answer(Buffer.concat(chunks).toString('utf8'));
    const serve = () =>
      setTimeout(() => {
        res.end(body);
        release();
      }, holdMs);
    if (busy < slots) {
      busy++;
      serve();
    } else waiting.push(serve);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
