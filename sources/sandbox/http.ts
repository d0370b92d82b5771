/** The few node:http chores the sandbox shell needs, kept apart from its policy. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonReply } from './router';

/** The request target as a URL, or undefined when it is not a plain path (`//x`, absolute-form, garbage). */
export function requestUrl(request: IncomingMessage): URL | undefined {
  const target = request.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(`http://sandbox${target}`);
  } catch {
    return undefined;
  }
}

/** The body as UTF-8 text, or undefined when it exceeds `limitBytes` (the rest is not read). */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes a reply as JSON with an exact content-length (keep-alive friendly); no body for `undefined`. */
export function sendJson(response: ServerResponse, reply: JsonReply, headers: Record<string, string> = {}): void {
  if (reply.body === undefined) {
    response.writeHead(reply.status, headers).end();
    return;
  }
  sendText(response, reply.status, JSON.stringify(reply.body), headers);
}

/** Writes a text (JSON, or on purpose something that only claims to be) as `application/json`. */
export function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(text, 'utf8');
  response
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': payload.length,
    })
    .end(payload);
}
