// A target faster than any node:http server, so that the load-generator benchmark measures the
// clients rather than the server: answers each bodyless request (GET) with precomputed bytes.
const net = require('node:net');
const port = Number(process.argv[2] ?? 18201);
const response = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\nhello');
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let tail = '';
  socket.on('data', (chunk) => {
    const text = tail + chunk.toString('latin1');
    let count = 0;
    for (let i = text.indexOf('\r\n\r\n'); i >= 0; i = text.indexOf('\r\n\r\n', i + 4)) count++;
    const last = text.lastIndexOf('\r\n\r\n');
    tail = (last >= 0 ? text.slice(last + 4) : text).slice(-3); // enough to finish a split terminator
    if (count === 1) socket.write(response);
    else if (count > 1) socket.write(Buffer.concat(Array(count).fill(response)));
  });
  socket.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
