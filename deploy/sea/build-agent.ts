// Builds dist/drover-agent: ONE executable (Node's Single Executable Applications) that needs nothing
// on the node — no Node, no node_modules. Works offline: esbuild bundles the agent to CJS (a main
// script and the code loaded on first use as assets), the PINNED Node 24 (node_modules/.bin/node) turns
// them into a SEA blob, and postject injects that blob into a stripped copy of the same Node binary.
//
//   npm run build:agent                      # → dist/drover-agent, then runs it with --version/--help
//   node deploy/sea/build-agent.ts --entry /tmp/x.ts --out /tmp/x --no-smoke
//
// Why a generated entry: agent/bin/drover-agent.ts uses top-level await, which esbuild cannot emit as
// CJS, and a Node 24 SEA main must be CJS. The generated entry calls the same `main()` the bin calls.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';

const REPO = resolve(import.meta.dirname, '../..');
/** The fuse postject flips so the Node binary looks for its injected blob (fixed by Node). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'dist/drover-agent') },
    'no-strip': { type: 'boolean', default: false },
    'no-smoke': { type: 'boolean', default: false },
    // V8/Node flags the binary always starts with (SEA `execArgv`), space-separated (experiments).
    'exec-argv': { type: 'string' },
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
//
// A main bundle and lazy ones, for the idle agent's memory (issue 12). The main script is what V8
// instantiates at start: esbuild hoists every function of every ES module in a bundle to the top level, so code
// that only runs when a Kafka step is ordered (the Kafka and Cassandra drivers, the AWS SDK…) would
// cost heap, code objects and the script's source on every idle agent. So the code behind the
// agent's dynamic `import()`s (the engine steps, systeminformation, prom-client, the S3 bucket)
// goes into lazy bundles, stored in the binary as SEA assets and compiled on the first such import.
// Modules both need exist once, in the main bundle: lazy bundles get them through a registry the
// entry fills (same instances: `instanceof DroverError` and module state hold).
step(`bundling with esbuild (Node ${nodeVersion})`);
const bundle = join(work, 'drover-agent.cjs');
const mainModule = join(REPO, 'agent/src/main.ts');
const entryCode = values.entry
  ? `import ${JSON.stringify(resolve(values.entry))};`
  : [
      `import { main } from ${JSON.stringify(mainModule)};`,
      'main(process.argv.slice(2)).then(',
      '  (code) => { process.exitCode = code; },',
      '  (error) => { console.error(error); process.exitCode = 1; },',
      ');',
    ].join('\n');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  keepNames: true, // error class names (`name`) and stack traces stay readable
  // No comments or indentation: the script's source stays on V8's heap for the process's life, and
  // one non-Latin-1 character in a comment would make all of it a two-byte string (twice the size).
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // @platformatic/kafka's checksums and compression are WebAssembly that its helper package reads
  // from a file beside itself (new URL('../dist/native.wasm', import.meta.url)), a file the single
  // binary does not have; the package's `bundled` build carries the same module inline.
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  // A CJS bundle has no import.meta; give modules that use it the binary's own path.
  define: { 'import.meta.url': '__sea_import_meta_url', 'import.meta.dirname': '__dirname' },
  banner: { js: 'var __sea_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
} satisfies BuildOptions;
const rel = (file: string) => relative(REPO, file);
// `await import('node:http')` as a require: a SEA script has no ESM loader for import() to use.
const builtinDynamicImports: Plugin = {
  name: 'builtin-dynamic-imports',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'drover-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'drover-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};
const entry = (contents: string) => ({ contents, resolveDir: REPO, sourcefile: 'sea-entry.ts', loader: 'ts' as const });

// 1a. What the entry loads statically: dynamic imports left out (external, their resolved paths
// noted), to see the static graph.
const dynamicTargets = new Set<string>();
const probe = await build({
  ...common,
  stdin: entry(entryCode),
  write: false,
  outfile: bundle,
  plugins: [
    builtinDynamicImports,
    {
      name: 'dynamic-imports-outside',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind !== 'dynamic-import' || args.pluginData === 'inner') return undefined;
          const found = await b.resolve(args.path, {
            kind: args.kind,
            resolveDir: args.resolveDir,
            importer: args.importer,
            pluginData: 'inner',
          });
          if (found.errors.length > 0 || found.external) return undefined;
          dynamicTargets.add(rel(found.path));
          return { path: args.path, external: true };
        });
      },
    },
  ],
});
const staticInputs = new Set(Object.keys(probe.metafile.inputs).filter((input) => !input.startsWith('<stdin>')));
const lazyTargets = [...dynamicTargets].filter((target) => !staticInputs.has(target)).sort();

// Imports of main-bundle modules from lazy code go to the registry (`drover-main:<path>`); a dynamic
// import() of one becomes a require of it (the vm the lazy code runs in has no ESM loader).
const fromMain = new Set<string>();
const mainModulesFromRegistry: Plugin = {
  name: 'main-modules-from-registry',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'inner' || args.kind === 'entry-point') return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'inner',
      });
      if (found.errors.length > 0 || found.external || !found.path.startsWith('/')) return undefined;
      const path = rel(found.path);
      if (!staticInputs.has(path)) return undefined;
      fromMain.add(path);
      return args.kind === 'dynamic-import'
        ? { path, namespace: 'drover-main-dynamic' }
        : { path: `drover-main:${path}`, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'drover-main-dynamic' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`drover-main:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

// 1b. The lazy bundles. Targets that share code (the Kafka steps share the Kafka client…) go into
// one bundle, so a module exists once however many of them run; a target sharing nothing (the
// `facts` step's systeminformation, prom-client, the S3 bucket) gets its own, so using it does not
// load the engines.
const closures = await build({
  ...common,
  entryPoints: lazyTargets.map((target) => join(REPO, target)),
  outdir: join(work, 'closures'),
  write: false,
  plugins: [builtinDynamicImports, mainModulesFromRegistry],
});
const owner = new Map<string, number>(); // lazy module → group of the first target that has it
const groupOf = lazyTargets.map((_, i) => i);
const find = (i: number): number => (groupOf[i] === i ? i : find(groupOf[i] ?? i));
for (const [i, target] of lazyTargets.entries()) {
  const output = Object.values(closures.metafile.outputs).find((o) => o.entryPoint === target);
  if (!output) throw new Error(`esbuild: no output for ${target}`);
  for (const input of Object.keys(output.inputs)) {
    const first = owner.get(input);
    if (first === undefined) owner.set(input, i);
    else groupOf[find(i)] = find(first);
  }
}
const groups = new Map<number, string[]>();
for (const [i, target] of lazyTargets.entries()) groups.set(find(i), [...(groups.get(find(i)) ?? []), target]);
const lazyAssets = new Map<string, string>(); // asset name → file
const assetOf = new Map<string, string>(); // lazy target → asset name
for (const targets of groups.values()) {
  const name = `lazy-${lazyAssets.size}.cjs`;
  const file = join(work, name);
  const table = targets
    .map((target) => `  ${JSON.stringify(target)}: () => require(${JSON.stringify(join(REPO, target))}),`)
    .join('\n');
  const lazy = await build({
    ...common,
    stdin: { ...entry(`module.exports = {\n${table}\n};`), loader: 'js' },
    outfile: file,
    plugins: [builtinDynamicImports, mainModulesFromRegistry],
  });
  if (lazy.errors.length > 0) throw new Error('esbuild failed (lazy bundle)');
  lazyAssets.set(name, file);
  for (const target of targets) assetOf.set(target, name);
}

// 1c. The main bundle: each lazy target is a stub that loads it from the lazy bundle; the entry
// registers the modules the lazy bundle takes from here, then runs the agent.
const registry = [...fromMain].sort();
const isCjs = (path: string) => probe.metafile.inputs[path]?.format === 'cjs';
const mainEntry = [
  `import { setMainModules } from 'drover-sea:loader';`,
  ...registry.map((path, i) => (isCjs(path) ? '' : `import * as m${i} from ${JSON.stringify(join(REPO, path))};`)),
  // A CommonJS module is handed over as its module.exports, an ES module as its namespace.
  'setMainModules({',
  ...registry.map(
    (path, i) =>
      `  ${JSON.stringify(path)}: ${isCjs(path) ? `require(${JSON.stringify(join(REPO, path))})` : `m${i}`},`,
  ),
  '});',
  entryCode,
]
  .filter(Boolean)
  .join('\n');
const loader = `
const sea = require('node:sea');
const vm = require('node:vm');
let main = {};
const loaded = new Map();
exports.setMainModules = (modules) => { main = modules; };
const requireLazy = (id) => {
  if (!id.startsWith('drover-main:')) return require(id);
  const found = main[id.slice('drover-main:'.length)];
  if (!found) throw new Error('drover-agent: ' + id + ' is not in the main bundle');
  return found;
};
exports.loadLazy = (asset, path) => {
  if (!loaded.has(asset)) {
    const module = { exports: {} };
    const load = vm.compileFunction(sea.getAsset(asset, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: asset });
    load(module.exports, requireLazy, module, __filename, __dirname);
    loaded.set(asset, module.exports);
  }
  return loaded.get(asset)[path]();
};`;
const result = await build({
  ...common,
  stdin: entry(mainEntry),
  outfile: bundle,
  plugins: [
    builtinDynamicImports,
    {
      name: 'lazy-from-asset',
      setup(b) {
        b.onResolve({ filter: /^drover-sea:loader$/ }, () => ({ path: 'loader', namespace: 'drover-sea' }));
        b.onLoad({ filter: /.*/, namespace: 'drover-sea' }, () => ({ contents: loader, loader: 'js' }));
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind !== 'dynamic-import' || args.pluginData === 'inner') return undefined;
          const result = await b.resolve(args.path, {
            kind: args.kind,
            resolveDir: args.resolveDir,
            importer: args.importer,
            pluginData: 'inner',
          });
          const path = rel(result.path);
          return assetOf.has(path) ? { path, namespace: 'drover-lazy' } : undefined;
        });
        b.onLoad({ filter: /.*/, namespace: 'drover-lazy' }, (args) => ({
          contents: `module.exports = require('drover-sea:loader').loadLazy(${JSON.stringify(assetOf.get(args.path))}, ${JSON.stringify(args.path)});`,
          loader: 'js',
        }));
      },
    },
  ],
});
if (result.errors.length > 0) throw new Error('esbuild failed');
const mainInputs = Object.keys(result.metafile.inputs).filter(
  (input) => input.startsWith('agent/') || input.startsWith('shared/') || input.startsWith('node_modules/'),
);
const strayed = mainInputs.filter((input) => !staticInputs.has(input));
if (strayed.length > 0) throw new Error(`lazily loaded modules got into the main bundle: ${strayed.join(', ')}`);
step(
  `bundle ${mib(statSync(bundle).size)}` +
    [...lazyAssets].map(([name, file]) => `, ${name} ${mib(statSync(file).size)}`).join(''),
);

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
      assets: Object.fromEntries(lazyAssets),
      ...(values['exec-argv'] ? { execArgv: values['exec-argv'].split(' ').filter(Boolean) } : {}),
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
// Copied, not renamed. postject writes the binary in one write(), and on a kernel that caches files
// in large folios (ext4 on Linux 6.x) a process started from those cached pages maps whole folios:
// measured, an idle agent run from the renamed file had ~18 MB more resident than from a copy, until
// the page cache was dropped. A copy (as install(1) and copyFileSync make) is cached as a read one is.
rmSync(out, { force: true });
copyFileSync(staged, out);
chmodSync(out, 0o755);
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
