import type { Fault } from './types.js';

export interface Reply {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

export function jsonReply(status: number, body: string | Buffer, headers?: Record<string, string>): Reply {
  return headers === undefined
    ? { status, body, contentType: JSON_TYPE }
    : { status, body, contentType: JSON_TYPE, headers };
}

export function errorReply(status: number, description: string, attributes?: Record<string, string>): Reply {
  const error =
    attributes === undefined ? { description, code: status } : { description, code: status, attributes };
  return jsonReply(status, JSON.stringify({ error }));
}

export const authenticationFailed = (): Reply => errorReply(403, 'Authentication failed');
export const validationFailed = (attributes: Record<string, string>): Reply =>
  errorReply(422, 'Validation failed', attributes);
export const tooManyRequests = (): Reply => errorReply(429, 'Too many requests');

/** What an injected status fault answers; 502 and 503 come from the proxy in front, as HTML. */
export function faultStatusReply(fault: Extract<Fault, { kind: 'status' }>): Reply {
  switch (fault.status) {
    case 429: {
      const reply = tooManyRequests();
      if (fault.retryAfterSeconds !== undefined)
        reply.headers = { 'Retry-After': String(fault.retryAfterSeconds) };
      return reply;
    }
    case 500:
      return errorReply(500, 'Internal server error');
    case 502:
      return { status: 502, body: proxyPage('502 Bad Gateway'), contentType: HTML_TYPE };
    case 503:
      return { status: 503, body: proxyPage('503 Service Temporarily Unavailable'), contentType: HTML_TYPE };
    case 504:
      return errorReply(504, 'Took server too long to respond');
  }
}

function proxyPage(title: string): string {
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** A record of the wrong shape, standing in for one real record of a page. */
export const BAD_RECORD_TEXT = JSON.stringify({
  id: 'x',
  created_at: 'not-a-date',
  email: 12345,
  form: null,
  mailing: 'none',
  group: null,
  answers: 'not-an-array',
});
