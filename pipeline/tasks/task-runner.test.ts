import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import type { EventMap } from '../app/events';
import { ConflictError } from '../base/errors';
import { TaskRunner, type TaskRun } from './task-runner';

function setup() {
  const file = join(mkdtempSync(join(tmpdir(), 'pricedrop-tasks-')), 'cache.db');
  const db = openCache(file);
  const events = new EventBus<EventMap>();
  const updates: TaskRun[] = [];
  events.on('task/updated', (run) => updates.push(run));
  return { db, events, updates, runner: new TaskRunner(db, events), file };
}

describe('TaskRunner', () => {
  it('records a successful run with its result and progress, newest first in the history', async () => {
    const { runner, updates } = setup();
    const first = runner.start('etl', 'first', async (task) => {
      task.progress(1, 2, 'half');
      return { files: 2 };
    });
    expect(first.status).toBe('running');
    const done = await runner.wait(first.id);
    expect(done).toMatchObject({ status: 'succeeded', done: 2, total: 2, result: { files: 2 } });
    const second = runner.start('etl', 'second', async () => 1);
    await runner.wait(second.id);
    expect(runner.list().map((r) => r.label)).toEqual(['second', 'first']);
    expect(updates.some((u) => u.id === first.id && u.status === 'succeeded')).toBe(true);
  });

  it('records a failure with the error message', async () => {
    const { runner } = setup();
    const run = runner.start('crawl', 'crawl', async () => {
      throw new Error('Crawler pricedrop-raw is already running');
    });
    expect(await runner.wait(run.id)).toMatchObject({ status: 'failed', message: 'Crawler pricedrop-raw is already running' });
  });

  it('cancels through the signal and refuses a second run of the same kind meanwhile', async () => {
    const { runner } = setup();
    const run = runner.start('sync', 'sync', (task) => new Promise((_resolve, reject) => task.signal.addEventListener('abort', () => reject(new DOMException('stop', 'AbortError')))));
    expect(() => runner.start('sync', 'again', async () => 0)).toThrow(ConflictError);
    runner.cancel(run.id);
    expect((await runner.wait(run.id)).status).toBe('cancelled');
    expect(runner.get(run.id).status).toBe('cancelled');
    expect(() => runner.cancel(run.id)).toThrow(ConflictError);
  });

  it('marks runs left running by a previous process as failed', async () => {
    const { db, events, runner } = setup();
    const run = runner.start('train', 'train', () => new Promise(() => {}));
    const next = new TaskRunner(db, events);
    expect(next.get(run.id)).toMatchObject({ status: 'failed', message: 'PriceDrop stopped while this task ran' });
  });
});
