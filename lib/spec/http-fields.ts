import { validateHeaderName, validateHeaderValue } from 'node:http';

/** Headers the load generator sets itself: a spec or a flag setting them would corrupt the requests. */
const OWN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'content-type']);

/** A media type such as `application/json` or `text/csv; charset=utf-8` (RFC 9110's token/token plus parameters). */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(\s*;\s*[\w!#$%&'*+.^`|~-]+=("[^"\r\n]*"|[\w!#$%&'*+.^`|~-]+))*$/;

/** What is wrong with a request header, or undefined when it can be sent as given. */
export function headerProblem(name: string, value: string): string | undefined {
  try {
    validateHeaderName(name);
  } catch {
    return `header name ${JSON.stringify(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
  if (OWN_HEADERS.has(name.toLowerCase())) {
    return name.toLowerCase() === 'content-type'
      ? 'Content-Type is set per payload (contentType, or --content-type), not as a header'
      : `header ${name} is set by the load generator and cannot be given`;
  }
  try {
    validateHeaderValue(name, value);
  } catch {
    return `header ${name} has a value with a control character (CR, LF or NUL), which HTTP does not allow`;
  }
  return undefined;
}

/** What is wrong with a content type ("is not …"), or undefined when it is a media type HTTP can carry. */
export function contentTypeProblem(type: string): string | undefined {
  return MEDIA_TYPE.test(type) ? undefined : 'is not a media type like application/json or text/csv; charset=utf-8';
}

/** Why a body is not JSON, or undefined when it parses. */
export function jsonProblem(body: string | Buffer): string | undefined {
  try {
    JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether a content type's body must be JSON (application/json, application/*+json). */
export function isJsonContentType(type: string): boolean {
  return /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type);
}
