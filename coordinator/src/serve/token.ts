// Access to `drover serve`: one shared token, from a file or $DROVER_SERVE_TOKEN. Compared in
// constant time over equal-length digests (timingSafeEqual needs equal lengths; comparing the raw
// strings would leak the token's length). The browser gets a cookie DERIVED from the token (an
// HMAC), so the token itself never sits in the cookie jar, and a restarted server with the same
// token accepts the cookie of a page opened before the restart.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ServeTokenError } from './errors.ts';

export const TOKEN_ENV = 'DROVER_SERVE_TOKEN';
export const COOKIE_NAME = 'drover_serve';
/** Shorter tokens are refused: the token is all that stands between the network and the fleet's state. */
export const MIN_TOKEN_LENGTH = 16;

export interface ServeToken {
  value: string;
  /** Where it came from, for the start line: `FILE` or `$DROVER_SERVE_TOKEN`. */
  source: string;
}

/** The token from `--token-file` (first line, trimmed) or else the environment; throws ServeTokenError. */
export function loadToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ServeToken {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (cause) {
      throw new ServeTokenError(tokenFile, `cannot read --token-file: ${(cause as Error).message}`, cause);
    }
    return checked((text.split('\n')[0] ?? '').trim(), tokenFile);
  }
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv === undefined || fromEnv.trim() === '')
    throw new ServeTokenError(`--token-file or $${TOKEN_ENV}`, 'none given');
  return checked(fromEnv.trim(), `$${TOKEN_ENV}`);
}

function checked(value: string, source: string): ServeToken {
  if (value.length < MIN_TOKEN_LENGTH)
    throw new ServeTokenError(source, `got ${value.length} characters, expected at least ${MIN_TOKEN_LENGTH}`);
  return { value, source };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `given` is the token, in time independent of where they differ and of their lengths. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/** The cookie value standing for the token (HMAC keyed by the token: useless without it). */
export function cookieValue(token: string): string {
  return createHmac('sha256', token).update('drover-serve-cookie-v1').digest('base64url');
}

/** The Set-Cookie header given after a first load with `?token=`. */
export function setCookieHeader(token: string): string {
  return `${COOKIE_NAME}=${cookieValue(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/** One cookie's value from a Cookie header (the last one wins, as browsers send the most specific last). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    if (part.slice(0, at).trim() === name) found = part.slice(at + 1).trim();
  }
  return found;
}

export interface Credentials {
  authorization?: string | undefined;
  cookie?: string | undefined;
  /** `?token=` of the URL (accepted for the page's first load and for scripts). */
  queryToken?: string | null | undefined;
}

/** How a request proved it knows the token, or undefined when it did not. */
export function authenticate(credentials: Credentials, token: string): 'bearer' | 'cookie' | 'query' | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(credentials.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined && tokenMatches(bearer, token)) return 'bearer';
  const cookie = readCookie(credentials.cookie, COOKIE_NAME);
  if (cookie !== undefined && tokenMatches(cookie, cookieValue(token))) return 'cookie';
  if (credentials.queryToken && tokenMatches(credentials.queryToken, token)) return 'query';
  return undefined;
}
