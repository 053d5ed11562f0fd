// The peer-neutral target of the load-generator benchmark: answers every request at once.
const http = require('node:http');
const port = Number(process.argv[2] ?? 18200);
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('hello'));
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
