// The audit trail: every order issued, every verdict, every job created and finished, on the
// DROVER_AUDIT stream (deny delete, deny purge). Records carry redacted parameters only.
import { type AuditKind, auditSubject } from '@drover/shared';
import type { Drover } from './nats.ts';
import { retrying } from './retry.ts';

export function audit(d: Drover, kind: AuditKind, id: string, record: Record<string, unknown>): Promise<unknown> {
  const subject = auditSubject(kind, id);
  return retrying(() => d.js.publish(subject, JSON.stringify(record)), {
    onGiveUp: (error) => process.emitWarning(`audit record ${subject} not written: ${(error as Error).message}`),
  });
}
