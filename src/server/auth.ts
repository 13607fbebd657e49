/**
 * Who may talk to the server.
 *
 * - With a token (`--token`), every request must carry it: `Authorization: Bearer <token>`, or the
 *   `nst_token` cookie that the page gets by opening `/?token=<token>` once (browsers cannot add
 *   headers to EventSource or <img> requests). Comparison is constant-time.
 * - Bound to loopback without a token, the Host header must name this machine (localhost,
 *   127.x.x.x, [::1]): a web page elsewhere cannot reach the server through DNS rebinding.
 * - Requests that change something (POST, DELETE) from a page of another origin are refused, so a
 *   foreign web page cannot create or delete jobs through the user's browser. `Origin: null` (a
 *   sandboxed frame, a file:// page, a cross-origin redirect) counts as foreign when the server
 *   has no token; with a token, the token decides.
 * - The token never appears in request logs (redactUrl).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from './config';
import { HttpError } from '../jobs/http-error';

export const TOKEN_COOKIE = 'nst_token';

export interface SecurityOptions {
  token?: string;
  host: string;
}

export function registerSecurity(app: FastifyInstance, options: SecurityOptions): void {
  const expected = options.token ? digest(options.token) : null;
  const loopbackOnly = isLoopbackHost(options.host);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const hostHeader = req.headers.host ?? '';
    if (loopbackOnly && !expected && !isLoopbackHost(hostName(hostHeader))) {
      throw new HttpError(403, 'this server only answers requests addressed to localhost or 127.0.0.1');
    }
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const origin = req.headers.origin;
      if (origin === 'null' && !expected) throw new HttpError(403, "cross-origin requests are refused (Origin: null, e.g. a sandboxed or file:// page)");
      if (origin && origin !== 'null' && !sameOrigin(origin, hostHeader)) throw new HttpError(403, 'cross-origin requests are refused');
      if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError(403, 'cross-origin requests are refused');
    }
    if (!expected) return;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m && matches(m[1], expected)) return;
      reply.header('WWW-Authenticate', 'Bearer realm="nst"');
      throw new HttpError(401, 'invalid bearer token');
    }
    const cookie = readCookie(req.headers.cookie, TOKEN_COOKIE);
    if (cookie && matches(cookie, expected)) return;
    const query = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof query === 'string' && req.method === 'GET' && matches(query, expected)) {
      reply.header('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(query)}; Path=/; HttpOnly; SameSite=Strict`);
      return;
    }
    reply.header('WWW-Authenticate', 'Bearer realm="nst"');
    throw new HttpError(401, 'this server needs a token: send Authorization: Bearer <token> (or open the page as /?token=<token>)');
  });
}

/**
 * The URL with the value of any `token` query parameter replaced, for logs. Names are compared
 * decoded, as the query parser reads them: `?tok%65n=` and `?%74oken=` authenticate too.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq >= 0 && isTokenName(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q + 1)}${pairs.join('&')}`;
}

/** Whether a raw query name decodes to "token" (any case); escapes are decoded one by one, so a malformed one elsewhere does not hide it. */
function isTokenName(raw: string): boolean {
  const name = raw.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return name.trim().toLowerCase() === 'token';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function matches(candidate: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(candidate), expected);
}

function hostName(hostHeader: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (m) return m[1];
  return hostHeader.replace(/:\d+$/, '');
}

function sameOrigin(origin: string, hostHeader: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === hostHeader.toLowerCase();
  } catch {
    return false;
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
