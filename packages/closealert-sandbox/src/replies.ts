import { jsonReply, proxyReply, withRetryAfter, type Reply, type StatusFault } from '@tributary/sandbox-kit';

export { jsonReply, type Reply };

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
export function faultStatusReply(fault: StatusFault): Reply {
  switch (fault.status) {
    case 429:
      return withRetryAfter(tooManyRequests(), fault);
    case 500:
      return errorReply(500, 'Internal server error');
    case 502:
    case 503:
      return proxyReply(fault.status);
    case 504:
      return errorReply(504, 'Took server too long to respond');
  }
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
