// A server of exactly known capacity: `slots` requests served at once, each held `holdMs` by a
// timer (no CPU), the rest waiting in order. At most slots × 1000 / holdMs requests a second.
//   node known-capacity.js <port> <slots> <holdMs>     (port 0: any free one; it prints `listening <port>`)
const http = require('node:http');
const [port, slots, holdMs] = process.argv.slice(2).map(Number);
let busy = 0;
const waiting = [];
const release = () => {
  const next = waiting.shift();
  if (next) next();
  else busy--;
};
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const serve = () =>
      setTimeout(() => {
        res.end('ok');
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
