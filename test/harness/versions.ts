// Where the harness finds each engine: versions come from versions.env (shared with setup.sh), the
// binaries and jars from the caches that setup.sh fills under ~/.cache/drover.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MissingDependencyError } from './errors.ts';

const SETUP_HINT = 'run `bash test/harness/setup.sh` (it installs and caches every engine)';

function readVersions(): Record<string, string> {
  const file = new URL('./versions.env', import.meta.url);
  const entries: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) entries[match[1]] = match[2];
  }
  return entries;
}

const versions = readVersions();

function version(key: string): string {
  const value = versions[key];
  if (!value) throw new MissingDependencyError(`${key} in test/harness/versions.env`, 'the file must define it');
  return value;
}

/** Root of every cached engine artifact: ~/.cache/drover (DROVER_CACHE_DIR overrides). */
export const CACHE_DIR = process.env.DROVER_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'drover');

export const NATS_CURRENT_VERSION = version('NATS_CURRENT_VERSION');
export const KAFKA_ZK_VERSION = version('KAFKA_ZK_VERSION');
export const KAFKA_KRAFT_VERSION = version('KAFKA_KRAFT_VERSION');
export const CASSANDRA_VERSION = version('CASSANDRA_VERSION');
export const VERSITYGW_VERSION = version('VERSITYGW_VERSION');

export const DEBIAN_NATS_SERVER = '/usr/sbin/nats-server';
export const DEBIAN_ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const JAVA_17_HOME = process.env.DROVER_JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64';

export function javaBinary(): string {
  const java = path.join(JAVA_17_HOME, 'bin', 'java');
  if (!fs.existsSync(java)) throw new MissingDependencyError(`Java 17 (${java})`, SETUP_HINT);
  return java;
}

export function natsServerBinary(kind: 'debian' | 'current'): { binary: string; version: string } {
  if (kind === 'debian') {
    if (!fs.existsSync(DEBIAN_NATS_SERVER)) throw new MissingDependencyError(DEBIAN_NATS_SERVER, SETUP_HINT);
    return { binary: DEBIAN_NATS_SERVER, version: 'debian' };
  }
  const binary = path.join(CACHE_DIR, 'bin', `nats-server-${NATS_CURRENT_VERSION}`);
  if (!fs.existsSync(binary))
    throw new MissingDependencyError(`nats-server ${NATS_CURRENT_VERSION} (${binary})`, SETUP_HINT);
  return { binary, version: NATS_CURRENT_VERSION };
}

/** The S3-compatible server of the log-shipping tests (Versity's gateway, posix backend), built by setup.sh. */
export function versitygwBinary(): { binary: string; version: string } {
  const binary = path.join(CACHE_DIR, 'bin', `versitygw-${VERSITYGW_VERSION}`);
  if (!fs.existsSync(binary))
    throw new MissingDependencyError(`versitygw ${VERSITYGW_VERSION} (${binary})`, SETUP_HINT);
  return { binary, version: VERSITYGW_VERSION };
}

/**
 * The classpath of a Maven-fetched engine: every jar of ~/.cache/drover/lib/<name>-<version>, which
 * setup.sh marks complete with a `.complete` file only after copy-dependencies succeeded.
 */
export function mavenClasspath(name: 'kafka-zk' | 'kafka-kraft' | 'cassandra', engineVersion: string): string {
  const dir = path.join(CACHE_DIR, 'lib', `${name}-${engineVersion}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    throw new MissingDependencyError(`${name} ${engineVersion} jars (${dir})`, SETUP_HINT);
  }
  const jars = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort();
  return jars.map((jar) => path.join(dir, jar)).join(':');
}

export function zookeeperJar(): string {
  if (!fs.existsSync(DEBIAN_ZOOKEEPER_JAR)) throw new MissingDependencyError(DEBIAN_ZOOKEEPER_JAR, SETUP_HINT);
  return DEBIAN_ZOOKEEPER_JAR;
}
