// What a Cassandra node of the harness is started with: JVM options, cassandra.yaml, logback config,
// the node's bin/cassandra and bin/nodetool scripts, and the choice of a free 127.0.B.x address block
// (used by cassandra.ts).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { CassandraNode } from './cassandra.ts';

type YamlNode = Pick<
  CassandraNode,
  'name' | 'address' | 'nativePort' | 'datacenter' | 'rack' | 'autoBootstrap' | 'dir' | 'dataDir'
>;

/** JPMS options of Cassandra's conf/jvm17-server.options (5.0), without its G1 settings. */
export const JVM17_OPTIONS = [
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
];

/** Small-machine JVM settings: serial GC and C1 only keep a node's CPU and threads low on 2 cores. */
export const LOW_FOOTPRINT = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss256k',
  '-Djava.net.preferIPv4Stack=true',
];

export function renderYaml(node: YamlNode, context: { clusterName: string; numTokens: number; seeds: string }): string {
  const data = path.join(node.dir, 'data');
  return `# ${node.name} (${node.datacenter}/${node.rack}), written by test/harness/cassandra.ts
cluster_name: '${context.clusterName}'
num_tokens: ${context.numTokens}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
auto_bootstrap: ${node.autoBootstrap}
endpoint_snitch: GossipingPropertyFileSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${context.seeds || node.address}"
listen_address: ${node.address}
rpc_address: ${node.address}
storage_port: 7000
native_transport_port: ${node.nativePort}
start_native_transport: true
data_file_directories:
  - ${node.dataDir}
commitlog_directory: ${path.join(data, 'commitlog')}
saved_caches_directory: ${path.join(data, 'saved_caches')}
hints_directory: ${path.join(data, 'hints')}
cdc_raw_directory: ${path.join(data, 'cdc_raw')}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 8MiB
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
concurrent_materialized_view_writes: 2
concurrent_compactors: 1
memtable_flush_writers: 1
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
counter_cache_size: 2MiB
native_transport_max_threads: 16
disk_optimization_strategy: ssd
dynamic_snitch: true
`;
}

/** The node's one data_file_directories entry (what a rebuilt node is wiped in). */
export function dataFileDirectory(nodeDir: string): string {
  return path.join(nodeDir, 'data', 'data');
}

/** One word for POSIX sh, whatever it holds: single-quoted, with each ' written as '\''. */
export function shQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** `exec` of java with one argument per line (continuations), every argument sh-quoted. */
function execLines(java: string, before: string[], passThrough: string, after: string[]): string {
  const words = [...before.map(shQuote), passThrough, ...after.map(shQuote)];
  return `exec ${shQuote(java)} \\\n${words.map((w) => `  ${w}`).join(' \\\n')}\n`;
}

/**
 * The node's bin/cassandra, what systemd runs in production: CassandraDaemon in the foreground with the
 * harness's JVM options, then every line of the node's JVM options file that starts with "-" (one
 * option per line; leading and trailing blanks dropped; blank lines and # comments skipped), so a step
 * that adds `-Dcassandra.reset_bootstrap_progress=false` there changes the next start, as with the
 * jvm*-server.options files of a packaged Cassandra. Later options win over the harness's own.
 */
export function renderLauncher(
  node: Pick<CassandraNode, 'name' | 'datacenter' | 'rack' | 'jvmOptionsFile'>,
  command: { java: string; jvm: string[]; classpath: string },
): string {
  return `#!/bin/sh
# bin/cassandra of ${node.name} (${node.datacenter}/${node.rack}), written by test/harness/cassandra.ts.
# Reads the JVM options file at every start: each line starting with "-" is one more java argument.
set -eu
OPTIONS=${shQuote(node.jvmOptionsFile)}
set --
if [ -r "$OPTIONS" ]; then
  # read without IFS= drops leading and trailing blanks; the || keeps a last line without newline.
  while read -r line || [ -n "$line" ]; do
    case "$line" in
      -*) set -- "$@" "$line" ;;
    esac
  done <"$OPTIONS"
fi
${execLines(command.java, command.jvm, '"$@"', ['-cp', command.classpath, 'org.apache.cassandra.service.CassandraDaemon'])}`;
}

/** The node's bin/nodetool: the real NodeTool class against the node's JMX port; arguments pass through. */
export function renderNodetool(
  node: Pick<CassandraNode, 'name' | 'jmxPort'>,
  command: { java: string; jvm: string[]; classpath: string },
): string {
  return `#!/bin/sh
# bin/nodetool of ${node.name}, written by test/harness/cassandra.ts: nodetool -h 127.0.0.1 -p ${node.jmxPort} "$@".
${execLines(
  command.java,
  [
    ...command.jvm,
    '-cp',
    command.classpath,
    'org.apache.cassandra.tools.NodeTool',
    '-h',
    '127.0.0.1',
    '-p',
    String(node.jmxPort),
  ],
  '"$@"',
  [],
)}`;
}

/** The JVM options file a node starts with: no option yet, only what the file is for. */
export function initialJvmOptions(node: Pick<CassandraNode, 'name'>): string {
  return `# JVM options of ${node.name}, read by its bin/cassandra at every start: one option per line.
`;
}

export function writeLogback(file: string, level: 'INFO' | 'WARN'): string {
  fs.writeFileSync(
    file,
    `<!-- written by test/harness/cassandra.ts: everything to stdout, i.e. the node's log file -->
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="${level}"><appender-ref ref="STDOUT" /></root>
</configuration>
`,
  );
  return file;
}

/** Whether `port` can be bound on `address` right now. */
function canBind(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

/**
 * Picks the third octet B of a 127.0.B.x block whose first addresses have 7000 and 9042 free, so two
 * clusters on the machine (two test runs, two engineers) do not collide on the default ports.
 */
export async function pickAddressBlock(
  count: number,
  addressOf: (block: number, i: number) => string,
): Promise<number> {
  for (let block = 0; block < 250; block++) {
    let free = true;
    for (let i = 0; i < count + 6 && free; i++) {
      const addr = addressOf(block, i);
      free = (await canBind(addr, 7000)) && (await canBind(addr, 9042));
    }
    if (free) return block;
  }
  throw new Error('no 127.0.B.0/24 block with ports 7000 and 9042 free');
}

export async function assertAddressFree(address: string): Promise<void> {
  for (const port of [7000, 9042]) {
    if (!(await canBind(address, port))) throw new Error(`${address}:${port} is already in use (another cluster?)`);
  }
}
