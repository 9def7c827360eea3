import { randomUUID } from 'node:crypto';
import type { CacheDb } from '../cache/cache-db';
import type { CoreEvents, EventSink } from '../api/event-bus';
import type { HandlerContext } from '../api/handler-context';
import { ConflictError, NotFoundError } from '../base/errors';

/**
 * Long actions the UI starts (an ETL run, a Glue crawl, an Athena sync, a training...) run as
 * tasks: started at once, reported with progress, cancellable, and recorded in `task_runs`
 * (the run history the Pipeline and Model screens show). The work itself runs wherever its
 * module puts it (worker threads, AWS); the runner only tracks it and passes an AbortSignal.
 */
export type TaskStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskRun {
  id: string;
  /** What kind of action: 'etl', 'crawl', 'transform', 'sync', 'train', 'publish', ... */
  kind: string;
  label: string;
  status: TaskStatus;
  started_at: string;
  finished_at: string | null;
  done: number;
  /** Absent (null) while the amount of work is unknown. */
  total: number | null;
  /** The latest progress label while running; the error's message when failed. */
  message: string | null;
  /** The finished work's summary (JSON-able), e.g. the ETL counts or the model's metrics. */
  result: unknown;
}

/** The tasks domain's event: a task started, progressed to a new state, or finished. */
export interface TaskEvents {
  'task/updated': TaskRun;
}

/**
 * What the handlers of long actions need: the backend's one task runner (built by the
 * composition root), so every domain shares the same run history and "one ETL at a time" rule.
 */
export interface TaskContext extends HandlerContext<CoreEvents & TaskEvents> {
  tasks: TaskRunner;
}

/** What a task's body receives. */
export interface TaskHandle {
  readonly id: string;
  /** Aborted when the user cancels; pass it on to the work (runLocalEtl, waitForCrawl...). */
  readonly signal: AbortSignal;
  /** Reports progress; `total` undefined when unknown. Throttled to at most 10 events a second. */
  progress(done: number, total?: number, message?: string): void;
}

export interface StartTaskOptions {
  /** Refuse to start while another task of the same kind runs (default true). */
  exclusive?: boolean;
}

/**
 * Errors whose message is fit to show to the user (the service's reason, a validation message).
 * Any other error is recorded with its message too: task results are the user's own work.
 */
function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && (error.name === 'AbortError' || error.name === 'EtlAbortedError'));
}

/** A `task_runs` row: a TaskRun with its result stored as JSON text. */
type Row = Omit<TaskRun, 'result'> & { result: string | null };

function fromRow(row: Row): TaskRun {
  let result: unknown = null;
  if (row.result) {
    try {
      result = JSON.parse(row.result) as unknown;
    } catch {
      result = null;
    }
  }
  return { ...row, result };
}

export class TaskRunner {
  readonly #db: CacheDb;
  readonly #events: EventSink<CoreEvents & TaskEvents>;
  readonly #running = new Map<string, { run: TaskRun; controller: AbortController; finished: Promise<TaskRun> }>();

  constructor(db: CacheDb, events: EventSink<CoreEvents & TaskEvents>) {
    this.#db = db;
    this.#events = events;
    // Runs recorded as running by a previous process did not finish: say so rather than show them spinning forever.
    db.prepare(`UPDATE task_runs SET status = 'failed', finished_at = ?, message = 'PriceDrop stopped while this task ran' WHERE status = 'running'`).run(new Date().toISOString());
  }

  /**
   * Starts `body` as a task and returns its run at once (status running). The body's resolved
   * value becomes the run's `result`; a throw marks it failed with the error's message; a
   * cancellation (the signal aborted) marks it cancelled.
   */
  start(kind: string, label: string, body: (task: TaskHandle) => Promise<unknown>, options: StartTaskOptions = {}): TaskRun {
    if (options.exclusive ?? true) {
      const busy = [...this.#running.values()].find((t) => t.run.kind === kind);
      if (busy) throw new ConflictError(`A ${kind} task is already running (${busy.run.label}); wait for it or cancel it.`);
    }
    const run: TaskRun = { id: randomUUID(), kind, label, status: 'running', started_at: new Date().toISOString(), finished_at: null, done: 0, total: null, message: null, result: null };
    this.#db
      .prepare('INSERT INTO task_runs (id, kind, label, status, started_at, done) VALUES (?, ?, ?, ?, ?, 0)')
      .run(run.id, run.kind, run.label, run.status, run.started_at);
    const controller = new AbortController();
    let lastEmit = 0;
    const handle: TaskHandle = {
      id: run.id,
      signal: controller.signal,
      progress: (done, total, message) => {
        run.done = done;
        run.total = total ?? null;
        if (message !== undefined) run.message = message;
        const now = Date.now();
        if (now - lastEmit < 100 && (total === undefined || done < total)) return;
        lastEmit = now;
        this.#events.emit('task/progress', { task: run.id, label: run.message ?? run.label, done, ...(total !== undefined ? { total } : {}) });
        this.#events.emit('task/updated', { ...run });
      },
    };
    this.#events.emit('task/updated', { ...run });
    const finished = (async () => {
      try {
        // Let start() return before the body runs, so a synchronous throw is still a failed run.
        await Promise.resolve();
        controller.signal.throwIfAborted();
        const result = await body(handle);
        if (controller.signal.aborted) this.#finish(run, 'cancelled', 'Cancelled', result);
        else this.#finish(run, 'succeeded', run.message, result);
      } catch (error) {
        if (isAbort(error, controller.signal)) this.#finish(run, 'cancelled', 'Cancelled', null);
        else this.#finish(run, 'failed', errorMessage(error), null);
      } finally {
        this.#running.delete(run.id);
      }
      return { ...run };
    })();
    this.#running.set(run.id, { run, controller, finished });
    return { ...run };
  }

  #finish(run: TaskRun, status: TaskStatus, message: string | null, result: unknown): void {
    run.status = status;
    run.finished_at = new Date().toISOString();
    run.message = message;
    run.result = result ?? null;
    if (status === 'succeeded' && run.total !== null) run.done = run.total;
    let resultJson: string | null;
    try {
      resultJson = result === undefined || result === null ? null : JSON.stringify(result);
    } catch {
      resultJson = null; // a result that is not JSON-able (a cycle): the run is still recorded
    }
    this.#db
      .prepare('UPDATE task_runs SET status = ?, finished_at = ?, done = ?, total = ?, message = ?, result = ? WHERE id = ?')
      .run(status, run.finished_at, run.done, run.total, message, resultJson, run.id);
    this.#events.emit('task/updated', { ...run });
  }

  /** Asks a running task to stop. Returns its run (still `running` until the body notices). */
  cancel(id: string): TaskRun {
    const entry = this.#running.get(id);
    if (!entry) {
      const past = this.get(id);
      throw new ConflictError(`The task ${past.label} is not running (${past.status}).`);
    }
    entry.controller.abort();
    return { ...entry.run };
  }

  /** The run by id, running or past. */
  get(id: string): TaskRun {
    const live = this.#running.get(id);
    if (live) return { ...live.run };
    const row = this.#db.prepare('SELECT * FROM task_runs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`No task ${id}`);
    return fromRow(row);
  }

  /** Resolves with the finished run (any final status). */
  async wait(id: string): Promise<TaskRun> {
    const live = this.#running.get(id);
    return live ? live.finished : this.get(id);
  }

  /** The newest runs first, optionally of some kinds; running ones carry their live progress. */
  list(options: { kinds?: string[]; limit?: number } = {}): TaskRun[] {
    const limit = options.limit ?? 50;
    const kinds = options.kinds ?? [];
    const where = kinds.length ? `WHERE kind IN (${kinds.map(() => '?').join(', ')})` : '';
    const rows = this.#db.prepare(`SELECT * FROM task_runs ${where} ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(...kinds, limit) as Row[];
    return rows.map((row) => {
      const live = this.#running.get(row.id);
      return live ? { ...live.run } : fromRow(row);
    });
  }

  /** Cancels everything running and waits for it to settle (shutdown). */
  async stopAll(): Promise<void> {
    const pending = [...this.#running.values()];
    for (const entry of pending) entry.controller.abort();
    await Promise.allSettled(pending.map((entry) => entry.finished));
  }
}
