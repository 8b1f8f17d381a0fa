// Real ZooKeeper ensembles on loopback for tests, from Debian's zookeeper 3.8 package: every member is
// its own QuorumPeerMain process with its own zoo.cfg, myid, data dir, client/quorum/election/admin
// ports and log file (we do not use the packaged service, whose environment pins the log dir).
// Voters get ids 1..V, observers 11..(10+O) (the observer convention of ../shared/knowledge/kafka.md).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import {
  type CommandResult,
  freePort,
  makeTempDir,
  memberLifecycle,
  type ProcessHandle,
  ProcessMember,
  runCommandOk,
  selectMembers,
  startMembers,
  startProcess,
  waitFor,
} from './process.ts';
import { javaBinary, zookeeperJar } from './versions.ts';

export interface StartZooKeeperOptions {
  /** Voting members (ids 1..voters). @default 1 */
  voters?: number;
  /** Observers (ids 11..10+observers). @default 0 */
  observers?: number;
  /** Max heap per member. @default '128m' */
  heap?: string;
  /** Budget for every member to answer `srvr` with a serving mode. @default 90000 */
  startTimeoutMs?: number;
}

export type ZooKeeperRole = 'voter' | 'observer';

export interface ZooKeeperMember {
  /** myid. */
  readonly id: number;
  readonly role: ZooKeeperRole;
  readonly host: string;
  readonly clientPort: number;
  /** host:clientPort */
  readonly address: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  /** AdminServer (Jetty): http://host:adminPort/commands/monitor */
  readonly adminPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly pid: number;
  readonly process: ProcessHandle;
  readonly running: boolean;
}

export type FourLetterWord = 'srvr' | 'mntr' | 'stat' | 'conf' | 'ruok' | 'cons' | 'envi';

export interface FourLetterAnswer {
  raw: string;
  /** `srvr`/`stat`/`conf`: "Key: value" lines; `mntr`: "key<TAB>value" lines. */
  fields: Record<string, string>;
}

export interface ZooKeeperEnsemble {
  readonly members: ZooKeeperMember[];
  readonly voters: ZooKeeperMember[];
  readonly observers: ZooKeeperMember[];
  /** host:port of every member, comma-separated (append a chroot for Kafka: `${connectString}/kafka-a`). */
  readonly connectString: string;
  readonly logFiles: string[];
  readonly dir: string;
  readonly startupMs: number;
  /** Graceful stop of member i (index in `members`), or of all. */
  stop(i?: number): Promise<void>;
  /** SIGKILL of member i, or of all. */
  kill(i?: number): Promise<void>;
  /** Starts member i again (same config, data dir, ports); resolves when it serves. */
  restart(i: number): Promise<void>;
  fourLetter(member: ZooKeeperMember | number, word: FourLetterWord): Promise<FourLetterAnswer>;
  /** The member whose `srvr` says Mode: leader (undefined while electing). */
  leader(): Promise<ZooKeeperMember | undefined>;
  /**
   * Runs ZooKeeper's own CLI (org.apache.zookeeper.ZooKeeperMain, same jar) with one command,
   * e.g. `cli(['create', '/a', 'x'])`; against `server` or the whole connect string. Throws on failure.
   */
  cli(args: string[], server?: string): Promise<CommandResult>;
  /**
   * Runs several CLI commands in one JVM (fed on stdin, one per line, e.g. `create /a x`); throws if
   * any failed (ZooKeeperMain then exits non-zero). About 1 s per call, whatever the command count.
   */
  cliScript(commands: string[], server?: string): Promise<CommandResult>;
}

class Member extends ProcessMember implements ZooKeeperMember {
  readonly id: number;
  readonly role: ZooKeeperRole;
  readonly host = '127.0.0.1';
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly adminPort: number;
  readonly dataDir: string;
  readonly configFile: string;

  constructor(id: number, role: ZooKeeperRole, ports: number[], dir: string) {
    super();
    this.id = id;
    this.role = role;
    [this.clientPort, this.quorumPort, this.electionPort, this.adminPort] = ports as [number, number, number, number];
    this.dataDir = path.join(dir, `zk-${id}`, 'data');
    this.configFile = path.join(dir, `zk-${id}`, 'zoo.cfg');
  }
  get name(): string {
    return `zk-${this.id}`;
  }
  get address(): string {
    return `${this.host}:${this.clientPort}`;
  }
  serverLine(): string {
    return `server.${this.id}=${this.host}:${this.quorumPort}:${this.electionPort}${this.role === 'observer' ? ':observer' : ''};${this.host}:${this.clientPort}`;
  }
}

/** log4j 1.2 + SLF4J binding from Debian (zookeeper.jar itself only carries slf4j-api). */
const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

function classpath(confDir: string): string {
  return [confDir, zookeeperJar(), ...LOGGING_JARS.filter((jar) => fs.existsSync(jar))].join(':');
}

/** Starts every member at once (a quorum needs a majority up), waits until each serves. */
export async function startZooKeeper(options: StartZooKeeperOptions = {}): Promise<ZooKeeperEnsemble> {
  const started = Date.now();
  const voterCount = options.voters ?? 1;
  const observerCount = options.observers ?? 0;
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const heap = options.heap ?? '128m';
  if (!Number.isInteger(voterCount) || voterCount < 1 || voterCount > 10) {
    throw new InvalidInputError('voters', voterCount, 'an integer 1..10');
  }
  if (!Number.isInteger(observerCount) || observerCount < 0) {
    throw new InvalidInputError('observers', observerCount, 'an integer >= 0');
  }
  const java = javaBinary();
  const dir = makeTempDir('zookeeper');
  const confDir = path.join(dir, 'conf');
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(confDir, 'log4j.properties'), LOG4J_PROPERTIES);
  const cp = classpath(confDir);

  const members: Member[] = [];
  const ports = async () => [await freePort(), await freePort(), await freePort(), await freePort()];
  for (let i = 1; i <= voterCount; i++) members.push(new Member(i, 'voter', await ports(), dir));
  for (let i = 1; i <= observerCount; i++) members.push(new Member(10 + i, 'observer', await ports(), dir));
  const quorumMode = members.length > 1;
  for (const member of members) {
    fs.mkdirSync(member.dataDir, { recursive: true });
    fs.writeFileSync(path.join(member.dataDir, 'myid'), `${member.id}\n`);
    fs.writeFileSync(member.configFile, renderConfig(member, members, quorumMode));
  }

  const launch = async (member: Member): Promise<void> => {
    member.process = await startProcess({
      name: member.name,
      command: java,
      args: [
        `-Xmx${heap}`,
        '-Xms32m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dzookeeper.root.logger=INFO,CONSOLE',
        '-cp',
        cp,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        member.configFile,
      ],
      logDir: dir,
    });
  };
  const waitServing = (member: Member): Promise<unknown> =>
    waitFor(
      async () => {
        const mode = (await fourLetter(member, 'srvr')).fields.Mode;
        return mode === 'leader' || mode === 'follower' || mode === 'observer' || mode === 'standalone';
      },
      {
        what: `ZooKeeper ${member.name} (${member.address}) to serve (srvr Mode); log ${member.logFile}`,
        timeoutMs,
        intervalMs: 500,
        processes: [member.process],
      },
    );

  await startMembers(members, launch, waitServing);

  const select = (i: number | undefined): Member[] => selectMembers(members, i, 'member index');
  const connectString = members.map((m) => m.address).join(',');
  const cliArgs = (server: string | undefined): string[] => [
    '-Xmx64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dzookeeper.root.logger=WARN,CONSOLE',
    '-cp',
    cp,
    'org.apache.zookeeper.ZooKeeperMain',
    '-server',
    server ?? connectString,
  ];
  const runCli = (args: string[], input?: string): Promise<CommandResult> =>
    runCommandOk(java, args, { timeoutMs: 60_000, logFile: path.join(dir, 'zk-cli.log'), ...(input ? { input } : {}) });

  return {
    members,
    voters: members.filter((m) => m.role === 'voter'),
    observers: members.filter((m) => m.role === 'observer'),
    connectString,
    dir,
    startupMs: Date.now() - started,
    get logFiles() {
      return members.map((m) => m.logFile);
    },
    ...memberLifecycle(select, launch, waitServing),
    fourLetter(member, word) {
      const target = typeof member === 'number' ? select(member)[0]! : member;
      return fourLetter(target, word);
    },
    async leader() {
      for (const member of members) {
        if (!member.running) continue;
        try {
          if ((await fourLetter(member, 'srvr')).fields.Mode === 'leader') return member;
        } catch {
          // not answering: not the leader we can report
        }
      }
      return undefined;
    },
    cli(args, server) {
      return runCli([...cliArgs(server), ...args]);
    },
    cliScript(commands, server) {
      return runCli(cliArgs(server), `${commands.join('\n')}\nquit\n`);
    },
  };
}

/** Sends a four-letter word to a member's client port and parses the answer. */
export function fourLetter(
  member: Pick<ZooKeeperMember, 'host' | 'clientPort'>,
  word: FourLetterWord,
  timeoutMs = 5000,
): Promise<FourLetterAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: member.host, port: member.clientPort });
    let raw = '';
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`${word} to ${member.host}:${member.clientPort}: no answer within ${timeoutMs} ms`));
    });
    socket.once('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (raw.includes('is not executed because it is not in the whitelist')) {
        reject(new Error(`${word} is not whitelisted on ${member.host}:${member.clientPort}`));
        return;
      }
      resolve({ raw, fields: parseFourLetter(raw) });
    });
  });
}

export function parseFourLetter(raw: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    const tab = line.indexOf('\t');
    const colon = line.indexOf(': ');
    if (tab > 0) fields[line.slice(0, tab).trim()] = line.slice(tab + 1).trim();
    else if (colon > 0) fields[line.slice(0, colon).trim()] = line.slice(colon + 2).trim();
  }
  return fields;
}

function renderConfig(member: Member, all: Member[], quorumMode: boolean): string {
  const lines = [
    `# ${member.name} (${member.role}), written by test/harness/zookeeper.ts`,
    'tickTime=1000',
    'initLimit=20',
    'syncLimit=10',
    `dataDir=${member.dataDir}`,
    `clientPortAddress=${member.host}`,
    `clientPort=${member.clientPort}`,
    'admin.enableServer=true',
    `admin.serverAddress=${member.host}`,
    `admin.serverPort=${member.adminPort}`,
    '4lw.commands.whitelist=*',
    'autopurge.purgeInterval=0',
  ];
  if (quorumMode) {
    lines.push('standaloneEnabled=false', 'reconfigEnabled=true', 'skipACL=yes');
    if (member.role === 'observer') lines.push('peerType=observer');
    for (const m of all) lines.push(m.serverLine());
  }
  return `${lines.join('\n')}\n`;
}

const LOG4J_PROPERTIES = `# written by test/harness/zookeeper.ts: everything to the console, i.e. the member's log file
zookeeper.root.logger=INFO, CONSOLE
log4j.rootLogger=\${zookeeper.root.logger}
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
`;
