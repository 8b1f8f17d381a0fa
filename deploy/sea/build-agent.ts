// Builds dist/drover-agent: ONE executable (Node's Single Executable Applications) that needs nothing
// on the node — no Node, no node_modules. Works offline: esbuild bundles the agent to one CJS file,
// the PINNED Node 24 (node_modules/.bin/node) turns it into a SEA blob, and postject injects that blob
// into a stripped copy of the same Node binary.
//
//   npm run build:agent                      # → dist/drover-agent, then runs it with --version/--help
//   node deploy/sea/build-agent.ts --entry /tmp/x.ts --out /tmp/x --no-smoke
//
// Why a generated entry: agent/bin/drover-agent.ts uses top-level await, which esbuild cannot emit as
// CJS, and a Node 24 SEA main must be CJS. The generated entry calls the same `main()` the bin calls.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const REPO = resolve(import.meta.dirname, '../..');
/** The fuse postject flips so the Node binary looks for its injected blob (fixed by Node). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'dist/drover-agent') },
    'no-strip': { type: 'boolean', default: false },
    'no-smoke': { type: 'boolean', default: false },
  },
});
const out = resolve(values.out);
const work = join(dirname(out), '.sea-build');
const started = performance.now();
const step = (what: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${what}`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

// The pinned Node, as a real file: .bin/node is a symlink, and the binary we copy must be the one
// that made the blob (a blob only runs in the exact Node version that produced it).
const pinnedNode = realpathSync(join(REPO, 'node_modules/.bin/node'));
const nodeVersion = execFileSync(pinnedNode, ['--version'], { encoding: 'utf8' }).trim();
if (!nodeVersion.startsWith('v24.')) throw new Error(`${pinnedNode}: got Node ${nodeVersion}, expected v24.x`);

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// 1. Bundle. TypeScript sources are type-stripped by esbuild; every dependency (nats, zod,
// systeminformation — all pure JS) goes in, only node: built-ins stay outside.
step(`bundling with esbuild (Node ${nodeVersion})`);
const bundle = join(work, 'drover-agent.cjs');
const mainModule = join(REPO, 'agent/src/main.ts');
const entryOptions = values.entry
  ? { entryPoints: [resolve(values.entry)] }
  : {
      stdin: {
        contents: [
          `import { main } from ${JSON.stringify(`./${relative(REPO, mainModule)}`)};`,
          'main(process.argv.slice(2)).then(',
          '  (code) => { process.exitCode = code; },',
          '  (error) => { console.error(error); process.exitCode = 1; },',
          ');',
        ].join('\n'),
        resolveDir: REPO,
        sourcefile: 'sea-entry.ts',
        loader: 'ts' as const,
      },
    };
const result = await build({
  ...entryOptions,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  outfile: bundle,
  keepNames: true, // error class names (`name`) and stack traces stay readable
  legalComments: 'none',
  logLevel: 'warning',
  // A CJS bundle has no import.meta; give modules that use it the binary's own path.
  define: { 'import.meta.url': '__sea_import_meta_url', 'import.meta.dirname': '__dirname' },
  banner: { js: 'var __sea_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
});
if (result.errors.length > 0) throw new Error('esbuild failed');
step(`bundle ${mib(statSync(bundle).size)}`);

// 2. The SEA blob, made by the pinned Node.
const blob = join(work, 'sea-prep.blob');
const seaConfig = join(work, 'sea-config.json');
writeFileSync(
  seaConfig,
  `${JSON.stringify(
    {
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8 code cache: faster start; valid because the blob is built by the Node it runs in.
      useCodeCache: true,
      useSnapshot: false,
    },
    null,
    2,
  )}\n`,
);
execFileSync(pinnedNode, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
step(`blob ${mib(statSync(blob).size)}`);

// 3. A copy of the pinned Node, stripped BEFORE injection (stripping after would cut the blob's note).
const staged = join(work, 'drover-agent');
copyFileSync(pinnedNode, staged);
chmodSync(staged, 0o755);
if (!values['no-strip']) {
  execFileSync('strip', [staged], { stdio: 'inherit' });
  step(`stripped node ${mib(statSync(pinnedNode).size)} → ${mib(statSync(staged).size)}`);
}

// 4. Inject the blob (postject runs under the pinned Node too).
const postject = join(REPO, 'node_modules/postject/dist/cli.js');
const injected = spawnSync(pinnedNode, [postject, staged, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {
  encoding: 'utf8',
});
// LIEF warns once per ELF note it cannot name ("Can't find string offset for section name '.note…'")
// on every stripped Node binary; harmless. Anything else is shown.
const postjectErrors = injected.stderr
  .split('\n')
  .filter((line) => line && !/string offset for section name/.test(line));
if (postjectErrors.length > 0) console.error(postjectErrors.join('\n'));
if (injected.status !== 0) throw new Error(`postject failed (exit ${injected.status}): ${injected.stdout}`);
mkdirSync(dirname(out), { recursive: true });
renameSync(staged, out);
rmSync(work, { recursive: true, force: true });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`built ${relative(process.cwd(), out) || out}: ${mib(statSync(out).size)} in ${seconds} s`);

// 5. Smoke test: the binary starts and answers without a config.
if (!values['no-smoke']) {
  for (const flag of ['--version', '--help']) {
    const text = execFileSync(out, [flag], { encoding: 'utf8', timeout: 30_000 }).trim();
    console.log(`$ ${relative(process.cwd(), out)} ${flag}\n${text}`);
  }
}
