// The job lease: the coordinator that drives a job writes itself as the job's owner with a
// `leaseUntil` and renews it by compare-and-set, so two coordinators never drive one job, and one
// that died is replaced by `drover job resume` once its lease runs out. Anything that drives a job
// (the job driver, a plan runner) takes the lease first and polls it every tick.
import { jobKey } from '@drover/shared';
import type { KV } from '@nats-io/kv';
import { JobLeasedError } from './errors.ts';
import { type JobEntry, readJob, updateJob } from './jobs.ts';
import { claim, LeaseMovedError, waitForLapse } from './lease-watch.ts';
import { LEASE_MS } from './options.ts';
import type { JobRecord } from './records.ts';

/** How often the job record is read back (for the cancel flag and a lost lease). */
const READ_EVERY_MS = 1000;

export interface TakenLease {
  /** The job as written with the new lease; as it was when it is no longer running. */
  job: JobRecord;
  /** Another coordinator had driven the job before (this is a resume). */
  resumed: boolean;
}

/**
 * Writes `owner` as the running job's owner. A job another coordinator holds is watched for one
 * lease (lease-watch.ts): taken when its lease lapses, JobLeasedError at once when the holder
 * renews it (a live coordinator drives it). A job that is not running is returned untouched.
 */
export async function takeLease(
  jobs: KV,
  jobId: string,
  owner: string,
  options: { observeMs?: number; wait?: boolean } = {},
): Promise<TakenLease> {
  for (let look = 0; ; look++) {
    let { job: watched } = await readJob(jobs, jobId);
    if (watched.state === 'running' && watched.owner && watched.owner !== owner && watched.leaseUntil !== 0) {
      const leased = (seen: JobRecord) => new JobLeasedError(jobId, seen.owner ?? '', seen.leaseUntil ?? 0);
      if (options.wait === false) throw leased(watched);
      watched = await waitForLapse(async () => (await readJob(jobs, jobId)).job, watched, leased, options);
    }
    let resumed = false;
    try {
      const taken = await updateJob(jobs, jobId, (job) => {
        if (job.state !== 'running') return undefined;
        resumed = job.owner !== undefined && job.owner !== owner;
        return claim(job, watched, owner);
      });
      return { job: taken.job, resumed };
    } catch (error) {
      if (!(error instanceof LeaseMovedError) || look >= 5) throw error;
    }
  }
}

/**
 * A held lease, polled once per loop pass. Reads the job at most once a second, notices when
 * another coordinator took it over (`lost`), and renews it a third of the way through.
 */
export class JobLease {
  /** The job as last renewed (what the holder drives from). */
  job: JobRecord;
  /** Another coordinator owns the job now: stop driving it, write nothing more. */
  lost = false;
  private readonly jobs: KV;
  private readonly owner: string;
  private lastRead = 0;
  private lastRenew: number;

  constructor(jobs: KV, owner: string, job: JobRecord, now = Date.now()) {
    this.jobs = jobs;
    this.owner = owner;
    this.job = job;
    this.lastRenew = now;
  }

  /**
   * Reads the job when a read is due and renews the lease when that is due. Returns the record
   * read (for its cancel flag), or undefined when no read was due, the read failed, or the lease
   * is lost.
   */
  async poll(now = Date.now()): Promise<JobRecord | undefined> {
    if (this.lost || now - this.lastRead < READ_EVERY_MS) return undefined;
    this.lastRead = now;
    let current: JobEntry;
    try {
      current = await readJob(this.jobs, this.job.id);
    } catch {
      // NATS is away (or the record unreadable): the next poll reads again. The lease is not renewed
      // meanwhile, and if another coordinator takes over, the next successful read says so.
      return undefined;
    }
    if (current.job.owner !== this.owner) {
      this.lost = true;
      return undefined;
    }
    if (now - this.lastRenew >= LEASE_MS / 3) await this.renew(current, now);
    return current.job;
  }

  private async renew(current: JobEntry, now: number): Promise<void> {
    const renewed = { ...current.job, leaseUntil: now + LEASE_MS };
    try {
      await this.jobs.update(jobKey(renewed.id), JSON.stringify(renewed), current.revision);
      this.job = renewed;
      this.lastRenew = now;
    } catch {
      // Someone wrote in between (a compare-and-set conflict, e.g. `drover job cancel`) or NATS is
      // away: either way the next poll reads the record again and renews from it, and a lease that
      // lapses meanwhile shows up there as another owner.
    }
  }
}
