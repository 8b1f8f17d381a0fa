// The HTTP side of `drover serve`: the page (three static files), a JSON snapshot, /metrics and the
// WebSocket feed, all behind the token (token.ts). The feed sends a snapshot when the page asks
// (on every connect, so a page that reconnects after a restart catches up without a reload), then
// the model's patches every FLUSH_MS. Read-only: the only messages a page may send are requests
// for a snapshot or an audit trail.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { isValidToken } from '@drover/shared';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AuditLine } from './audit-read.ts';
import { forecastsIndexHtml, type ServedForecast } from './forecasts.ts';
import type { ServeMetrics } from './metrics.ts';
import type { LiveModel } from './model.ts';
import { authenticate, setCookieHeader } from './token.ts';

/** How often changes are pushed to the pages (the page's update latency is at most this plus the network). */
const FLUSH_MS = 100;
/** A page that cannot keep up (this much unsent) is dropped; it reconnects and gets a snapshot. */
const MAX_BUFFERED_BYTES = 8 * 1024 ** 2;
const PING_MS = 15_000;

const PUBLIC_DIR = new URL('./public/', import.meta.url);
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export interface HttpOptions {
  host: string;
  port: number;
  token: string;
  model: LiveModel;
  metrics: ServeMetrics;
  readAudit(ids: string[]): Promise<AuditLine[]>;
  /** Rehearsal forecasts to show at /forecasts (forecasts.ts). */
  forecasts?: ReadonlyMap<string, ServedForecast>;
}

/** The forecast pages are static HTML with inline styles and no script at all. */
const FORECAST_CSP = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export interface ServeHttp {
  url: string;
  port: number;
  server: Server;
  clients(): number;
  /** Pushes pending changes now (the flush timer does it every FLUSH_MS). */
  flush(): void;
  close(): Promise<void>;
}

export async function startHttp(options: HttpOptions): Promise<ServeHttp> {
  const { model, token } = options;
  const files = new Map(
    Object.entries(FILES).map(([path, f]) => [path, { body: readFileSync(new URL(f.file, PUBLIC_DIR)), type: f.type }]),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const alive = new WeakMap<WebSocket, boolean>();

  const send = (ws: WebSocket, message: unknown) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `internal error: ${error.message}\n`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', { Allow: 'GET, HEAD' });
      return;
    }
    const how = authenticate(
      {
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        queryToken: url.searchParams.get('token'),
      },
      token,
    );
    if (!how) {
      reply(res, 401, 'text/plain; charset=utf-8', 'drover serve: a token is required (Authorization: Bearer …)\n', {
        'WWW-Authenticate': 'Bearer realm="drover"',
      });
      return;
    }
    if (how === 'query') {
      // The page's first load: trade the token in the address for a cookie, and drop it from the
      // address (and the browser's history) at once.
      url.searchParams.delete('token');
      reply(res, 303, 'text/plain; charset=utf-8', 'signed in\n', {
        'Set-Cookie': setCookieHeader(token),
        Location: `${url.pathname}${url.search}`,
      });
      return;
    }
    const file = files.get(url.pathname);
    if (file) {
      reply(res, 200, file.type, file.body);
      return;
    }
    if (url.pathname === '/api/snapshot') {
      reply(res, 200, 'application/json', JSON.stringify(model.snapshot(Date.now())));
      return;
    }
    const forecasts = options.forecasts ?? new Map<string, ServedForecast>();
    if (url.pathname === '/forecasts' || url.pathname === '/forecasts/') {
      reply(res, 200, 'text/html; charset=utf-8', forecastsIndexHtml(forecasts), FORECAST_CSP);
      return;
    }
    if (url.pathname === '/api/forecasts') {
      const list = [...forecasts.values()].map(({ name, forecast: f }) => ({
        name,
        fleet: f.fleet,
        clusters: f.clusters.length,
        nodes: f.nodes,
        totalMs: f.totalMs,
      }));
      reply(res, 200, 'application/json', JSON.stringify(list));
      return;
    }
    const forecastPath = /^\/(api\/)?forecasts\/([^/]+)$/.exec(url.pathname);
    if (forecastPath) {
      let name: string | undefined;
      try {
        name = decodeURIComponent(forecastPath[2] as string);
      } catch {
        name = undefined; // a malformed %-escape names no forecast
      }
      const served = name === undefined ? undefined : forecasts.get(name);
      if (!served) reply(res, 404, 'text/plain; charset=utf-8', 'no such forecast (see /forecasts)\n');
      else if (forecastPath[1]) reply(res, 200, 'application/json', JSON.stringify(served.forecast));
      else reply(res, 200, 'text/html; charset=utf-8', served.html, FORECAST_CSP);
      return;
    }
    if (url.pathname === '/metrics') {
      const registry = options.metrics.registry;
      reply(res, 200, registry.contentType, await registry.metrics());
      return;
    }
    reply(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const how = authenticate({ authorization: req.headers.authorization, cookie: req.headers.cookie }, token);
    // A page of another site must not open the feed with this browser's cookie.
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || originHost(origin) === req.headers.host;
    if (url.pathname !== '/ws' || !how || !sameOrigin) {
      const status = url.pathname !== '/ws' ? '404 Not Found' : !how ? '401 Unauthorized' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => {
      let request: { type?: unknown; run?: unknown; job?: unknown };
      try {
        request = JSON.parse(String(data));
      } catch {
        return;
      }
      if (request.type === 'snapshot') send(ws, model.snapshot(Date.now()));
      else if (request.type === 'audit') void sendAudit(ws, request);
    });
  });

  async function sendAudit(ws: WebSocket, request: { run?: unknown; job?: unknown }): Promise<void> {
    const id = typeof request.run === 'string' ? request.run : typeof request.job === 'string' ? request.job : '';
    if (!isValidToken(id)) {
      send(ws, { type: 'audit', id, error: 'not a run or job id' });
      return;
    }
    const ids =
      typeof request.run === 'string' ? [id, ...[...model.jobs.keys()].filter((j) => j.startsWith(`${id}-`))] : [id];
    try {
      send(ws, { type: 'audit', id, lines: await options.readAudit(ids) });
    } catch (error) {
      send(ws, { type: 'audit', id, error: (error as Error).message });
    }
  }

  const flush = () => {
    const patch = model.takePatch(Date.now());
    if (!patch) return;
    const text = JSON.stringify(patch);
    for (const ws of wss.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.terminate();
      else ws.send(text);
    }
  };
  const flusher = setInterval(flush, FLUSH_MS);
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_MS);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostInUrl}:${port}/`,
    port,
    server,
    clients: () => wss.clients.size,
    flush,
    async close() {
      clearInterval(flusher);
      clearInterval(pinger);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function reply(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
