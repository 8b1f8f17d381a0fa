// `npm run bench:agent-rss [-- --baseline REF] [--facts summary] [--no-binary]`: the resident memory of
// ONE idle agent daemon, the real entry, connected to a real nats-server (Debian's), 5 s after it
// said "agent ready": run from source (`node agent/bin/drover-agent.ts`) and as the single binary
// (built here by deploy/sea/build-agent.ts into a temp folder, then copied as install-agent.sh's
// install(1) does: a file written in one write() is cached in large folios that a process maps
// whole, ~18 MB more resident than the installed copy, which is what a node runs). Figures, not a test.
// `--baseline REF` measures the tree of git commit REF first, in the same run on the same server, so
// a before/after pair is comparable (its sources are extracted to a temp folder; node_modules are
// this checkout's, except @drover/* which point into the extracted tree).
// `--facts full` (the default, as a config without `registerFullFacts` runs) or `summary`.
// `--floor` also measures what Node alone costs the agent: a single binary built by the same script
// whose main only loads the Node built-ins the agent's main bundle loads, signs and checks once with
// ed25519, and waits (no agent code, no nats.js, no schemas).
// Besides VmRSS it prints /proc/<pid>/smaps_rollup's split: anonymous (heap, V8 code, malloc) and
// file-backed (the node binary's pages, shared libraries) memory.
// LAST line: agent-rss source_mb=… binary_mb=… [floor_mb=…]
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFleet, NODE, REPO } from '../test/fleet/fleet.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir, type ProcessHandle, startProcess, waitFor } from '../test/harness/process.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    facts: { type: 'string', default: 'full' },
    'idle-ms': { type: 'string', default: '5000' },
    'no-binary': { type: 'boolean', default: false },
    // Also print the largest mappings by resident size (/proc/<pid>/smaps): where the memory is.
    smaps: { type: 'boolean', default: false },
    // Flags built into the binary (build-agent.ts --exec-argv), e.g. '--max-lazy --no-opt'.
    'exec-argv': { type: 'string' },
    floor: { type: 'boolean', default: false },
  },
});
const idleMs = Number(values['idle-ms']);
const fullFacts = values.facts !== 'summary';

const dir = makeTempDir('bench-agent-rss');
const nats = await startNats({ servers: 1 });
const fleet = createFleet(join(dir, 'fleet'), nats.urls);

interface Sample {
  rssMb: number;
  anonMb: number;
  fileMb: number;
  privateMb: number;
}

const mb = (kb: number) => kb / 1024;
const fmt = (x: number) => x.toFixed(1);

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    rssMb: mb(field(status, 'VmRSS')),
    anonMb: mb(field(status, 'RssAnon')),
    fileMb: mb(field(status, 'RssFile') + field(status, 'RssShmem')),
    privateMb: mb(field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty')),
  };
}

let runs = 0;
/** Starts one agent with `command args… --config FILE`, waits until ready and `idleMs` more, samples, stops. */
async function measure(label: string, command: string, args: string[]): Promise<Sample> {
  const spec = { id: `rss-${++runs}`, labels: { bench: 'rss' } };
  await fleet.enroll([spec]);
  const configFile = join(dir, `${spec.id}.json`);
  writeFileSync(configFile, JSON.stringify({ ...fleet.config(spec), registerFullFacts: fullFacts }, null, 2));
  const agent = await startProcess({
    name: `agent-${spec.id}`,
    command,
    args: [...args, '--config', configFile],
    logDir: join(dir, 'logs'),
  });
  return sampleWhenIdle(label, agent, '"agent ready"');
}

/** Waits for `ready` in the process's log and `idleMs` more, samples and prints its memory, stops it. */
async function sampleWhenIdle(label: string, proc: ProcessHandle, ready: string): Promise<Sample> {
  try {
    await waitFor(() => readFileSync(proc.logFile, 'utf8').includes(ready), {
      timeoutMs: 30_000,
      what: `${label} ready (log ${proc.logFile})`,
    });
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const s = sample(proc.pid);
    if (values.smaps) printMappings(proc.pid);
    console.log(
      `${label}: rss ${fmt(s.rssMb)} MB (anonymous ${fmt(s.anonMb)}, file-backed ${fmt(s.fileMb)}, private ${fmt(s.privateMb)})`,
    );
    return s;
  } finally {
    await proc.stop('SIGTERM', 10_000);
  }
}

/** The largest mappings of `pid` by resident size: address range, permissions, file (or kind), MB. */
function printMappings(pid: number): void {
  const rows: Array<{ what: string; rssKb: number }> = [];
  let current: { what: string; rssKb: number } | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+-[0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      current = { what: `${header[2]} ${header[3] || '[anonymous]'}`, rssKb: 0 };
      rows.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rssKb = Number(rss[1]);
  }
  const merged = new Map<string, number>();
  for (const row of rows) merged.set(row.what, (merged.get(row.what) ?? 0) + row.rssKb);
  for (const [what, kb] of [...merged].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`  ${fmt(mb(kb)).padStart(6)} MB  ${what}`);
}

/** The tree of commit `ref` in a temp folder, runnable with this checkout's dependencies. */
function extractTree(ref: string): string {
  const tree = join(dir, `tree-${ref.replace(/[^\w.-]/g, '_')}`);
  mkdirSync(tree, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${REPO}" archive "${ref}" | tar -x -C "${tree}"`]);
  // Third-party packages are shared; the workspace packages must be the extracted ones.
  mkdirSync(join(tree, 'node_modules/@drover'), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry !== '@drover') symlinkSync(join(REPO, 'node_modules', entry), join(tree, 'node_modules', entry));
  }
  for (const pkg of ['agent', 'coordinator', 'shared'])
    symlinkSync(join(tree, pkg), join(tree, 'node_modules/@drover', pkg));
  return tree;
}

/** Builds the single binary of `tree` with that tree's own build script; returns an installed copy. */
function buildBinary(tree: string, name: string, entry?: string): string {
  const built = join(dir, name, 'build/drover-agent');
  const execArgv = values['exec-argv'] ? [`--exec-argv=${values['exec-argv']}`] : [];
  const entryArgs = entry ? ['--entry', entry] : [];
  execFileSync(
    NODE,
    [join(tree, 'deploy/sea/build-agent.ts'), '--out', built, '--no-smoke', ...entryArgs, ...execArgv],
    {
      cwd: tree,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 300_000,
    },
  );
  const installed = join(dir, name, 'drover-agent');
  copyFileSync(built, installed);
  chmodSync(installed, 0o755);
  return installed;
}

/**
 * The `node:` built-ins the agent's main bundle requires (`grep -o 'require("node:[a-z_/]*")'` of
 * the bundle build-agent.ts makes, 2026-12-04); the lazy bundles' are left out, as at idle.
 */
const AGENT_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'diagnostics_channel',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'module',
  'net',
  'os',
  'path',
  'string_decoder',
  'timers/promises',
  'tls',
  'url',
  'util',
  'vm',
  'worker_threads',
];

/** RSS of a binary with Node and those built-ins only, idle as long as the agent: what no agent code can go below. */
async function measureFloor(): Promise<Sample> {
  const entry = join(dir, 'floor-entry.ts');
  writeFileSync(
    entry,
    [
      ...AGENT_BUILTINS.map((name) => `import 'node:${name}';`),
      "import { generateKeyPairSync, sign, verify } from 'node:crypto';",
      "const { privateKey, publicKey } = generateKeyPairSync('ed25519');",
      "if (!verify(null, Buffer.from('x'), publicKey, sign(null, Buffer.from('x'), privateKey))) throw new Error('ed25519');",
      "console.log('floor ready');",
      'setInterval(() => {}, 1 << 30);',
    ].join('\n'),
  );
  const binary = buildBinary(REPO, 'floor', entry);
  const proc = await startProcess({ name: 'floor', command: binary, args: [], logDir: join(dir, 'logs') });
  return sampleWhenIdle('Node floor single binary', proc, 'floor ready');
}

async function measureTree(tree: string, name: string): Promise<{ source: Sample; binary?: Sample }> {
  const source = await measure(`${name} from source`, NODE, [join(tree, 'agent/bin/drover-agent.ts')]);
  if (values['no-binary']) return { source };
  const binary = await measure(`${name} single binary`, buildBinary(tree, name), []);
  return { source, binary };
}

console.log(
  `idle agent RSS, ${idleMs} ms after "agent ready", nats ${nats.version}, facts at registration: ${fullFacts ? 'full' : 'summary'}, node ${process.version}`,
);
let baseline: { source: Sample; binary?: Sample } | undefined;
if (values.baseline) {
  const ref = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', values.baseline], { encoding: 'utf8' }).trim();
  baseline = await measureTree(extractTree(ref), `baseline ${ref}`);
}
const current = await measureTree(REPO, 'current');
const floor = values.floor ? await measureFloor() : undefined;
await nats.stop();
if (baseline)
  console.log(
    `agent-rss baseline source_mb=${fmt(baseline.source.rssMb)} binary_mb=${baseline.binary ? fmt(baseline.binary.rssMb) : '-'}`,
  );
console.log(
  `agent-rss source_mb=${fmt(current.source.rssMb)} binary_mb=${current.binary ? fmt(current.binary.rssMb) : '-'}${floor ? ` floor_mb=${fmt(floor.rssMb)}` : ''}`,
);
process.exit(0);
