// Pre-flight findings: what must be true of the cluster before the plan may run (errors), and what
// an operator should know (warnings, info). Checked from the cluster model alone.

import type { Broker, Cluster, Partition, ThrottleConfig } from './model.ts';
import { type Finding, partitionKey } from './types.ts';

export interface FindingInput {
  cluster: Cluster;
  /** In plan order, with their destination replicas (parallel). */
  partitions: readonly Partition[];
  destinations: readonly (readonly number[])[];
  throttleBytesPerSec: number;
}

export function preflightFindings(input: FindingInput): Finding[] {
  return [
    ...partitionFindings(input),
    ...throttleFindings(input.cluster),
    ...destinationFindings(input.cluster),
    ...inboundFindings(input),
  ];
}

function partitionFindings({ cluster, partitions }: FindingInput): Finding[] {
  const findings: Finding[] = [];
  let unsized = 0;
  for (const p of partitions) {
    const subject = partitionKey(p.topic, p.partition);
    if (p.leader === -1)
      findings.push(error('offline', `no leader: the partition is offline (replicas ${list(p.replicas)})`, subject));
    if (p.offlineReplicas.length > 0)
      findings.push(error('offline', `offline replicas ${list(p.offlineReplicas)} of ${list(p.replicas)}`, subject));
    const missing = p.replicas.filter((r) => !p.isr.includes(r));
    if (missing.length > 0) {
      findings.push(
        error(
          'under-replicated',
          `under-replicated: ISR ${list(p.isr)} of replicas ${list(p.replicas)} (missing ${list(missing)})`,
          subject,
        ),
      );
    }
    if (p.addingReplicas.length > 0 || p.removingReplicas.length > 0) {
      findings.push(
        error(
          'reassignment-in-flight',
          `a reassignment is already in flight (adding ${list(p.addingReplicas)}, removing ${list(p.removingReplicas)}): let it finish or cancel it first`,
          subject,
        ),
      );
    }
    if (p.sizeBytes === null) unsized++;
  }
  const internal = cluster.topics.filter((t) => t.internal).map((t) => t.name);
  if (internal.length > 0) {
    findings.push({
      severity: 'info',
      code: 'internal-topics',
      message: `internal topics move too: ${internal.join(', ')}`,
      subject: 'cluster',
    });
  }
  if (unsized > 0) {
    findings.push({
      severity: 'info',
      code: 'sizes-unknown',
      message: `${unsized} partitions have no sizeBytes: they count as 0 bytes for ordering and totals`,
      subject: 'cluster',
    });
  }
  return findings;
}

/** Throttles already set: static ones and cluster defaults cannot be removed per resource by the plan. */
function throttleFindings(cluster: Cluster): Finding[] {
  const findings: Finding[] = [];
  const describe = (c: ThrottleConfig) => `${c.name}=${c.value}`;
  const report = (subject: string, configs: readonly ThrottleConfig[]) => {
    for (const c of configs) {
      if (c.source === 'STATIC_BROKER_CONFIG') {
        findings.push(
          warning(
            'static-throttle',
            `static throttle ${describe(c)} (server.properties): IncrementalAlterConfigs cannot delete it, it applies again once the plan's dynamic value is deleted; remove it from server.properties`,
            subject,
          ),
        );
      } else if (c.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG') {
        findings.push(
          warning(
            'default-throttle',
            `cluster-wide default throttle ${describe(c)}: clean-up deletes per-broker values only; remove it with kafka-configs --entity-type brokers --entity-default --alter --delete-config ${c.name}`,
            subject,
          ),
        );
      } else {
        findings.push(
          warning(
            'existing-throttle',
            `throttle ${describe(c)} already set: the plan overrides or extends it and clean-up deletes it`,
            subject,
          ),
        );
      }
    }
  };
  for (const b of cluster.brokers) report(`broker:${b.id}`, b.throttles);
  for (const t of cluster.topics) report(`topic:${t.name}`, t.throttles);
  return findings;
}

/** Clients reach every broker through the same listener names; a missing one means LISTENER_NOT_FOUND. */
function destinationFindings(cluster: Cluster): Finding[] {
  const findings: Finding[] = [];
  const sources = cluster.brokers.filter((b) => b.role !== 'destination');
  const destinations = cluster.brokers.filter((b) => b.role !== 'source');
  const required = cluster.clientListeners ?? [...new Set(sources.flatMap((b) => b.listeners ?? []))].sort();
  const anyRack = cluster.brokers.some((b) => b.rack !== null);
  for (const b of destinations) {
    const subject = `broker:${b.id}`;
    if (required.length > 0 && b.listeners === null) {
      findings.push(
        warning('listeners-unknown', `listeners not given: cannot check it exposes ${required.join(', ')}`, subject),
      );
    } else if (b.listeners !== null) {
      const missing = required.filter((l) => !b.listeners!.includes(l));
      if (missing.length > 0) {
        findings.push(
          error(
            'missing-listener',
            `missing listener ${missing.join(', ')}: clients would get LISTENER_NOT_FOUND`,
            subject,
          ),
        );
      }
    }
    if (anyRack && b.rack === null) {
      findings.push(
        warning(
          'missing-rack',
          'no rack (broker.rack) while other brokers have one: rack-aware placement treats it as a rack of its own',
          subject,
        ),
      );
    }
  }
  return findings;
}

/** A throttle below the rate new data arrives never lets a new replica catch up. */
function inboundFindings({ cluster, partitions, destinations, throttleBytesPerSec }: FindingInput): Finding[] {
  const findings: Finding[] = [];
  const rate = throttleBytesPerSec;
  partitions.forEach((p, i) => {
    if (p.bytesInPerSec === null) return;
    const newReplicas = destinations[i]!.filter((d) => !p.replicas.includes(d)).length;
    if (newReplicas === 0) return;
    // The leader sends the inbound stream once per new follower, all under its leader throttle.
    const needed = p.bytesInPerSec * newReplicas;
    if (needed > rate) {
      findings.push(
        error(
          'throttle-below-inbound',
          `throttle ${rate} B/s is below the ${needed} B/s its ${newReplicas} new replicas need (inbound ${p.bytesInPerSec} B/s): the move would never finish`,
          partitionKey(p.topic, p.partition),
        ),
      );
    }
  });
  const busy = (b: Broker) => b.bytesInPerSec !== null && b.bytesInPerSec > rate;
  for (const b of cluster.brokers.filter((x) => x.role !== 'destination' && busy(x))) {
    findings.push(
      warning(
        'throttle-below-inbound',
        `throttle ${rate} B/s is below the broker's observed inbound ${b.bytesInPerSec} B/s: moves of its busiest partitions may never finish`,
        `broker:${b.id}`,
      ),
    );
  }
  return findings;
}

function list(ids: readonly number[]): string {
  return `[${ids.join(',')}]`;
}

function error(code: string, message: string, subject: string): Finding {
  return { severity: 'error', code, message, subject };
}

function warning(code: string, message: string, subject: string): Finding {
  return { severity: 'warning', code, message, subject };
}
