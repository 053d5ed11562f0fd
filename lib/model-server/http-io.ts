import type { IncomingMessage, ServerResponse } from 'node:http';

// Reading requests and writing JSON responses, for the model server and the token server alike,
// apart from the model server so that the token server does not load onnxruntime.

/** A request's body as text, or why it was not read whole: over `maxBytes`, or refused by `hold` (the server's admission). */
export function readBody(req: IncomingMessage, maxBytes: number, hold: (bytes: number) => boolean): Promise<string | 'too large' | 'busy'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve('too large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (why: 'too large' | 'busy') => {
      req.removeAllListeners('data');
      req.pause();
      resolve(why);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) stop('too large');
      else if (!hold(chunk.length)) stop('busy');
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A JSON response (with the body's `requestId`, if any, as `x-request-id`). */
export function send(res: ServerResponse, result: { status: number; body: object }, allow?: string): void {
  const payload = JSON.stringify(result.body);
  const requestId = (result.body as { requestId?: string }).requestId;
  res.writeHead(result.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...(requestId ? { 'x-request-id': requestId } : {}),
    ...(allow ? { allow } : {}),
  });
  res.end(payload);
}
