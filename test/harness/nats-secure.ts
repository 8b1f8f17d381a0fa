// Secure mode for the test NATS servers: TLS with a throwaway CA (openssl), and accounts whose users
// carry the permissions Drover ships (deploy/nats/permissions.conf for the coordinator, and
// deploy/nats/agent-permissions.sh for each agent), so tests exercise the real permission set. Agents
// are added while the servers run: their users are written and every server reloads its config.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './process.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const PERMISSIONS = path.join(REPO, 'deploy/nats/permissions.conf');
const AGENT_PERMISSIONS = path.join(REPO, 'deploy/nats/agent-permissions.sh');

export interface NatsCredentials {
  user: string;
  pass: string;
}

/** What a client needs to reach secure test servers, and the way to add agent identities. */
export interface NatsSecurity {
  /** The CA the servers' certificates are signed by (clients check them against it). */
  caFile: string;
  /** The coordinator identity (permissions $COORDINATOR). */
  coordinator: NatsCredentials;
  /** The read-only identity `drover serve` runs as (permissions $VIEWER). */
  viewer: NatsCredentials;
  /** Adds a user per agent id with that agent's permissions (existing ids keep theirs); reloads. */
  addAgents(ids: readonly string[]): Promise<Map<string, string>>;
  /** The password of an agent added before. */
  agentPassword(id: string): string | undefined;
}

/** Makes the CA and a server certificate for 127.0.0.1 in `dir`. */
export function makeTestCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=drover-test-ca'].concat([
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
    ]),
  );
  openssl(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr')]);
  fs.writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key')].concat([
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file('san.ext'),
      '-out',
      file('server.pem'),
    ]),
  );
  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}

/**
 * The config lines a secure server adds (TLS, the shipped permissions, the accounts file), and the
 * NatsSecurity that keeps the accounts file and reloads the servers (`reload` signals each one).
 */
export function secureConfig(
  dir: string,
  reload: () => Promise<void>,
): {
  lines: string[];
  /** The same for a leaf-node server: its accounts without JetStream (the hub's serves them). */
  leafLines: string[];
  tls: { caFile: string; certFile: string; keyFile: string };
  security: NatsSecurity;
} {
  const tls = makeTestCa(path.join(dir, 'tls'));
  // One generated file: nats-server resolves a $VARIABLE only within the file where it is defined
  // (and what that file includes), so the shipped permissions, the agents' blocks and the accounts
  // that use them are written together.
  const securityFile = path.join(dir, 'security.conf');
  const leafSecurityFile = path.join(dir, 'security-leaf.conf');
  // Its COORDINATOR block; the example agent blocks after it are left out (a variable no user
  // refers to is an "unknown field" to nats-server).
  const shipped = fs.readFileSync(PERMISSIONS, 'utf8').split(/^# ---- agent /m)[0];
  const coordinator = { user: 'coordinator', pass: secret() };
  const viewer = { user: 'viewer', pass: secret() };
  const agents = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();
  const write = () => {
    const ids = [...agents.keys()];
    const blocks = ids.length ? execFileSync('bash', [AGENT_PERMISSIONS, ...ids], { encoding: 'utf8' }) : '';
    const users = [
      `      { user: ${coordinator.user}, password: "${coordinator.pass}", permissions: $COORDINATOR }`,
      `      { user: ${viewer.user}, password: "${viewer.pass}", permissions: $VIEWER }`,
      ...ids.map(
        (id) =>
          `      { user: "${id}", password: "${agents.get(id)}", permissions: $AGENT_${id.replaceAll('-', '_')} }`,
      ),
    ];
    const accounts = (jetstream: boolean) => [
      'accounts {',
      '  DROVER {',
      ...(jetstream ? ['    jetstream: enabled'] : []),
      '    users: [',
      ...users,
      '    ]',
      '  }',
      '}',
    ];
    // Atomically: a server reloading must never read a half-written file (it would lose users).
    for (const [file, jetstream] of [
      [securityFile, true],
      [leafSecurityFile, false],
    ] as const) {
      fs.writeFileSync(`${file}.tmp`, `${shipped}\n${blocks}\n${accounts(jetstream).join('\n')}\n`);
      fs.renameSync(`${file}.tmp`, file);
    }
  };
  write();
  const security: NatsSecurity = {
    caFile: tls.caFile,
    coordinator,
    viewer,
    // One change at a time: two reloads at once could let a server read one writer's file while the
    // other's users are not in it yet.
    addAgents(ids) {
      const next = queue.then(async () => {
        const fresh = ids.filter((id) => !agents.has(id));
        for (const id of fresh) agents.set(id, secret());
        if (fresh.length > 0) {
          write();
          await reload();
        }
        return new Map(ids.map((id) => [id, agents.get(id) as string]));
      });
      queue = next.catch(() => undefined);
      return next;
    },
    agentPassword: (id) => agents.get(id),
  };
  const clientTls = ['tls {', `  cert_file: "${tls.certFile}"`, `  key_file: "${tls.keyFile}"`, '  timeout: 5', '}'];
  // nats-server reads includes relative to the config file (each server's is in dir/<name>/).
  const lines = [...clientTls, 'include "../security.conf"'];
  const leafLines = [...clientTls, 'include "../security-leaf.conf"'];
  return { lines, leafLines, tls, security };
}

/** SIGHUP (config reload) to `pid`, then waits until its log says the reload is done. */
export async function reloadServer(pid: number, logFile: string): Promise<void> {
  const count = () => (fs.readFileSync(logFile, 'utf8').match(/Reloaded server configuration/g) ?? []).length;
  const before = count();
  process.kill(pid, 'SIGHUP');
  await waitFor(() => count() > before, { timeoutMs: 10_000, intervalMs: 50, what: `nats-server ${pid} reloaded` });
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}
