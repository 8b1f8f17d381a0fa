// The serve token: loaded from a file or the environment (refused when missing or short), compared
// in constant time, and traded for a derived cookie that never holds the token itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServeTokenError } from '../../src/serve/errors.ts';
import {
  authenticate,
  COOKIE_NAME,
  cookieValue,
  loadToken,
  readCookie,
  setCookieHeader,
  tokenMatches,
} from '../../src/serve/token.ts';

const TOKEN = 'a-long-enough-token-0123456789';

test('a token from a file (first line) or the environment; none, or a short one, is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-token-'));
  const file = join(dir, 'token');
  writeFileSync(file, `  ${TOKEN}  \nsecond line\n`);
  assert.deepEqual(loadToken(file, {}), { value: TOKEN, source: file });
  assert.deepEqual(loadToken(undefined, { DROVER_SERVE_TOKEN: TOKEN }), {
    value: TOKEN,
    source: '$DROVER_SERVE_TOKEN',
  });
  assert.throws(() => loadToken(undefined, {}), ServeTokenError);
  assert.throws(() => loadToken(undefined, { DROVER_SERVE_TOKEN: '  ' }), ServeTokenError);
  assert.throws(() => loadToken(join(dir, 'missing'), { DROVER_SERVE_TOKEN: TOKEN }), ServeTokenError, 'the file wins');
  writeFileSync(file, 'short\n');
  assert.throws(
    () => loadToken(file, {}),
    (e: Error) => e instanceof ServeTokenError && !e.message.includes('short') && /at least 16/.test(e.message),
    'the error never repeats the token',
  );
  rmSync(dir, { recursive: true });
});

test('tokens compare equal only when identical, whatever their lengths', () => {
  assert.equal(tokenMatches(TOKEN, TOKEN), true);
  assert.equal(tokenMatches(`${TOKEN}x`, TOKEN), false);
  assert.equal(tokenMatches(TOKEN.slice(0, -1), TOKEN), false);
  assert.equal(tokenMatches('', TOKEN), false);
  assert.equal(tokenMatches(undefined, TOKEN), false);
});

test('Bearer, the derived cookie, or ?token= authenticate; anything else does not', () => {
  assert.equal(authenticate({ authorization: `Bearer ${TOKEN}` }, TOKEN), 'bearer');
  assert.equal(authenticate({ authorization: `bearer  ${TOKEN}` }, TOKEN), 'bearer');
  assert.equal(authenticate({ authorization: `Basic ${TOKEN}` }, TOKEN), undefined);
  assert.equal(authenticate({ cookie: `x=1; ${COOKIE_NAME}=${cookieValue(TOKEN)}` }, TOKEN), 'cookie');
  assert.equal(authenticate({ cookie: `${COOKIE_NAME}=${TOKEN}` }, TOKEN), undefined, 'the raw token is no cookie');
  assert.equal(authenticate({ cookie: `${COOKIE_NAME}=${cookieValue('another-token-0123456789')}` }, TOKEN), undefined);
  assert.equal(authenticate({ queryToken: TOKEN }, TOKEN), 'query');
  assert.equal(authenticate({ queryToken: '' }, TOKEN), undefined);
  assert.equal(authenticate({}, TOKEN), undefined);
});

test('the cookie is HttpOnly, SameSite=Strict, derived from the token and stable across restarts', () => {
  const header = setCookieHeader(TOKEN);
  assert.match(header, /HttpOnly/);
  assert.match(header, /SameSite=Strict/);
  assert.ok(!header.includes(TOKEN));
  assert.equal(cookieValue(TOKEN), cookieValue(TOKEN));
  assert.equal(readCookie(`a=b; ${COOKIE_NAME}=one; ${COOKIE_NAME}=two`, COOKIE_NAME), 'two');
  assert.equal(readCookie(undefined, COOKIE_NAME), undefined);
});
