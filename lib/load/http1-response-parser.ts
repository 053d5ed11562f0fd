import { ModelsweepError } from '../errors';

/** A response that is not well-formed HTTP/1.1. */
export class ResponseParseError extends ModelsweepError {
  constructor(message: string) {
    super('bad-response', message);
    this.name = 'ResponseParseError';
  }
}

const CR = 13;
const LF = 10;
/** Larger heads are refused rather than buffered without bound. */
const MAX_HEAD_BYTES = 64 * 1024;

const enum State {
  Head,
  FixedBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

/**
 * Parses HTTP/1.1 responses from a byte stream, one after another, keeping only what a load
 * generator needs: the status, whether the connection stays open, and where each response ends.
 * Bodies are skipped, never copied. Handles Content-Length, chunked encoding (with extensions and
 * trailers), bodies delimited by the connection closing, interim 1xx responses, and responses that
 * have no body (HEAD, 204, 304). Chunks may split anywhere, even inside a CRLF.
 */
export class Http1ResponseParser {
  private state = State.Head;
  /** Head bytes (or a chunk-size line) seen so far, when they arrive split across chunks. */
  private partial: Buffer | undefined;
  private remaining = 0;
  private status = 0;
  /** After a response: false when the server asked to close (Connection: close, HTTP/1.0) or the body ran to EOF. */
  keepAlive = true;
  /** Set by the connection before each request: a HEAD response has headers only. */
  expectBodyless = false;

  /** True while a response has started but not ended. */
  get midResponse(): boolean {
    return this.state !== State.Head || this.partial !== undefined;
  }

  /**
   * Feeds bytes; returns the status of the response they complete, or 0 if more bytes are needed.
   * One request is in flight per connection, so bytes after a complete response are an error.
   */
  feed(chunk: Buffer): number {
    let data = chunk;
    let i = 0;
    while (i < data.length) {
      switch (this.state) {
        case State.Head: {
          if (this.partial) {
            data = Buffer.concat([this.partial, data.subarray(i)]);
            this.partial = undefined;
            i = 0;
          }
          const end = data.indexOf('\r\n\r\n', i, 'latin1');
          if (end < 0) {
            if (data.length - i > MAX_HEAD_BYTES) throw new ResponseParseError(`response head over ${MAX_HEAD_BYTES} bytes`);
            this.partial = Buffer.from(data.subarray(i));
            return 0;
          }
          const done = this.readHead(data.toString('latin1', i, end));
          i = end + 4;
          if (done) return this.complete(i, data.length);
          break;
        }
        case State.FixedBody: {
          const take = Math.min(this.remaining, data.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) return this.complete(i, data.length);
          break;
        }
        case State.ChunkSize:
        case State.Trailers: {
          const lineEnd = data.indexOf(LF, i);
          if (lineEnd < 0) {
            this.partial = this.partial ? Buffer.concat([this.partial, data.subarray(i)]) : Buffer.from(data.subarray(i));
            if (this.partial.length > MAX_HEAD_BYTES) throw new ResponseParseError('chunk-size line or trailers too long');
            return 0;
          }
          let line = data.toString('latin1', i, lineEnd);
          if (this.partial) {
            line = this.partial.toString('latin1') + line;
            this.partial = undefined;
          }
          if (!line.endsWith('\r')) throw new ResponseParseError('bare LF in chunked body');
          line = line.slice(0, -1);
          i = lineEnd + 1;
          if (this.state === State.Trailers) {
            if (line === '') return this.complete(i, data.length);
            break;
          }
          const sizeText = line.split(';', 1)[0].trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw new ResponseParseError(`bad chunk size ${JSON.stringify(sizeText)}`);
          this.remaining = parseInt(sizeText, 16);
          this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, data.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          const expected = this.remaining === 2 ? CR : LF;
          if (data[i] !== expected) throw new ResponseParseError('chunk data not followed by CRLF');
          i++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
          return 0;
      }
    }
    return 0;
  }

  /** The connection closed: returns the status of a body that ran to EOF, else 0. */
  end(): number {
    if (this.state !== State.UntilClose) return 0;
    this.state = State.Head;
    return this.status;
  }

  /** Reads a status line and headers; returns true when the response has no body. */
  private readHead(head: string): boolean {
    const lineEnd = head.indexOf('\r\n');
    const statusLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!match) throw new ResponseParseError(`bad status line ${JSON.stringify(statusLine.slice(0, 40))}`);
    const status = Number(match[2]);
    let keepAlive = match[1] === '1';
    let contentLength = -1;
    let chunked = false;
    for (let start = lineEnd + 2; lineEnd >= 0 && start < head.length;) {
      let end = head.indexOf('\r\n', start);
      if (end < 0) end = head.length;
      const colon = head.indexOf(':', start);
      if (colon > start && colon < end) {
        const nameLength = colon - start;
        // Only three headers matter; compare names only when the length can match.
        if (nameLength === 14 || nameLength === 17 || nameLength === 10) {
          const name = head.slice(start, colon).toLowerCase();
          const value = head
            .slice(colon + 1, end)
            .trim()
            .toLowerCase();
          if (name === 'content-length') {
            if (!/^\d+$/.test(value)) throw new ResponseParseError(`bad content-length ${JSON.stringify(value)}`);
            contentLength = Number(value);
          } else if (name === 'transfer-encoding') chunked = value.split(',').at(-1)?.trim() === 'chunked';
          else if (name === 'connection') {
            if (value.includes('close')) keepAlive = false;
            else if (value.includes('keep-alive')) keepAlive = true;
          }
        }
      }
      start = end + 2;
    }
    this.status = status;
    this.keepAlive = keepAlive;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status >= 100 && status < 200) return false;
    if (this.expectBodyless || status === 204 || status === 304) return true;
    if (chunked) this.state = State.ChunkSize;
    else if (contentLength >= 0) {
      if (contentLength === 0) return true;
      this.state = State.FixedBody;
      this.remaining = contentLength;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    return false;
  }

  private complete(consumed: number, available: number): number {
    if (consumed < available) throw new ResponseParseError('bytes after the response (the server sent more than one answer)');
    this.state = State.Head;
    return this.status;
  }
}
