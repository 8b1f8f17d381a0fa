// What a Cassandra node of the harness is started with: JVM options, cassandra.yaml, logback config,
// and the choice of a free 127.0.B.x address block (used by cassandra.ts).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { CassandraNode } from './cassandra.ts';

type YamlNode = Pick<
  CassandraNode,
  'name' | 'address' | 'nativePort' | 'datacenter' | 'rack' | 'autoBootstrap' | 'dir'
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
  - ${path.join(data, 'data')}
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
