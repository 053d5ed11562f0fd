import { describe, expect, it } from 'vitest';

import { Http1ResponseParser, ResponseParseError } from '../../../lib/load/http1-response-parser';

/** Feeds a response in pieces of `size` bytes; returns the status of each piece (0 = incomplete). */
function feedInPieces(parser: Http1ResponseParser, text: string, size: number): number[] {
  const bytes = Buffer.from(text, 'latin1');
  const statuses: number[] = [];
  for (let i = 0; i < bytes.length; i += size) statuses.push(parser.feed(bytes.subarray(i, i + size)));
  return statuses;
}

const responses = {
  contentLength: 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Other: a:b\r\n\r\nhello world',
  chunked: 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer-A: x\r\n\r\n',
  empty: 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n',
  notFound: 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n',
  interim: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
};

describe('Http1ResponseParser', () => {
  for (const [name, text] of Object.entries(responses)) {
    for (const size of [1, 2, 3, 7, 4096]) {
      it(`finds the end of a ${name} response fed ${size} byte(s) at a time`, () => {
        const parser = new Http1ResponseParser();
        const statuses = feedInPieces(parser, text, size);
        // Complete exactly at the last byte, never before.
        expect(statuses.slice(0, -1).every((s) => s === 0)).toBe(true);
        expect(statuses.at(-1)).toBe(Number(/HTTP\/1\.1 (\d+)(?![\s\S]*HTTP\/1\.1)/.exec(text)![1]));
        expect(parser.keepAlive).toBe(true);
        expect(parser.midResponse).toBe(false);
      });
    }
  }

  it('parses response after response on one connection', () => {
    const parser = new Http1ResponseParser();
    for (const text of [responses.chunked, responses.contentLength, responses.empty, responses.chunked]) {
      expect(feedInPieces(parser, text, 5).at(-1)).toBeGreaterThan(0);
    }
  });

  it('reads that the server will close: Connection: close and HTTP/1.0', () => {
    const close = new Http1ResponseParser();
    expect(close.feed(Buffer.from('HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 1\r\n\r\nx'))).toBe(200);
    expect(close.keepAlive).toBe(false);
    const old = new Http1ResponseParser();
    expect(old.feed(Buffer.from('HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx'))).toBe(200);
    expect(old.keepAlive).toBe(false);
    const oldKeepAlive = new Http1ResponseParser();
    expect(oldKeepAlive.feed(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 1\r\n\r\nx'))).toBe(200);
    expect(oldKeepAlive.keepAlive).toBe(true);
  });

  it('ends a body without length or chunking when the connection closes', () => {
    const parser = new Http1ResponseParser();
    expect(parser.feed(Buffer.from('HTTP/1.1 500 Oops\r\n\r\npartial'))).toBe(0);
    expect(parser.feed(Buffer.from(' more'))).toBe(0);
    expect(parser.end()).toBe(500);
    expect(parser.keepAlive).toBe(false);
  });

  it('expects no body after a HEAD request, whatever Content-Length says', () => {
    const parser = new Http1ResponseParser();
    parser.expectBodyless = true;
    expect(parser.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n'))).toBe(200);
  });

  it('knows it is mid-response, so a close then is an error and not a success', () => {
    const parser = new Http1ResponseParser();
    expect(parser.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'))).toBe(0);
    expect(parser.midResponse).toBe(true);
    expect(parser.end()).toBe(0);
  });

  it.each([
    ['a bad status line', 'HTTX/1.1 200 OK\r\n\r\n', /bad status line/],
    ['a bad content-length', 'HTTP/1.1 200 OK\r\ncontent-length: 12a\r\n\r\n', /bad content-length "12a"/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /bad chunk size "zz"/],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nxy', /not followed by CRLF/],
    ['bytes after the response', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxy', /bytes after the response/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => new Http1ResponseParser().feed(Buffer.from(text))).toThrow(ResponseParseError);
    expect(() => new Http1ResponseParser().feed(Buffer.from(text))).toThrow(message);
  });

  it('refuses a head that never ends rather than buffering it without bound', () => {
    const parser = new Http1ResponseParser();
    parser.feed(Buffer.from('HTTP/1.1 200 OK\r\n'));
    expect(() => {
      for (let i = 0; i < 100; i++) parser.feed(Buffer.from(`x-filler-${i}: ${'a'.repeat(1000)}\r\n`));
    }).toThrow(/over 65536 bytes/);
  });
});
