// Latency-accuracy targets with known answers.
//   node known-latency.js <port> uniform <minMs> <maxMs>   every request waits U(min, max) ms
//   node known-latency.js <port> stall <periodMs> <stallMs> answers at once, except requests arriving
//                                                          in the last stallMs of each period wait until it ends
const http = require('node:http');
const [port, mode, a, b] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const origin = Date.now();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (mode === 'uniform') return setTimeout(() => res.end('ok'), a + Math.random() * (b - a));
    const into = (Date.now() - origin) % a;
    if (into >= a - b) return setTimeout(() => res.end('ok'), a - into);
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log('listening'));
