import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { producerArgs } from '../../producer/produce-flags';
import type { ProducerOptions, ProducerSummary } from '../../producer/run-producer';
import { lakeDir } from '../base/lake-layout';
import { packageRoot } from '../base/paths';
import { ensureProducerImage } from './producer-image';

/**
 * Starts, watches and stops the producer for the desktop backend: in a Docker container when a
 * Docker engine answers (image built from producer/Dockerfile on first use), otherwise as a child
 * process of this Node (`pricedrop produce`). `status().runner` says which, and `runnerReason` why.
 */
export type ProducerRunner = 'docker' | 'process';
export type ProducerState = 'idle' | 'building' | 'starting' | 'running' | 'stopping' | 'exited' | 'failed';

export interface ProducerStatus {
  state: ProducerState;
  runner?: ProducerRunner;
  /** Why this runner: e.g. "Docker is not available (connect ENOENT /var/run/docker.sock)". */
  runnerReason?: string;
  image?: string;
  containerId?: string;
  pid?: number;
  source?: string;
  /** Where batches go, as the user gave it (no credentials in it). */
  sink?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number | null;
  /** Docker's health check result while a container runs: starting, healthy, unhealthy. */
  health?: string;
  /** The producer's final report, when it printed one. */
  summary?: ProducerSummary;
  error?: string;
}

export interface ProducerLogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  at: string;
}

/** Start options: the producer's own options (no workspace: the control's) plus credentials. */
export type ProducerStartOptions = Omit<ProducerOptions, 'workspace' | 'sinkInstance'> & {
  /**
   * Extra environment for the producer only (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_SESSION_TOKEN, AWS_PROFILE, the Best Buy key...). Passed as container/process environment,
   * never as arguments, never logged.
   */
  env?: Record<string, string>;
  /** Overrides the control's runner for this start (the embedded default runs its simulator as a child process). */
  runner?: 'auto' | ProducerRunner;
};

export interface ProducerControlOptions {
  workspace: string;
  /** 'auto' (default): Docker when it answers, else a child process. */
  runner?: 'auto' | ProducerRunner;
  /** An injected client; default: the local engine (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** The image's BASE_IMAGE build argument (default $PRICEDROP_BASE_IMAGE or node:20-bookworm-slim). */
  baseImage?: string;
  /** Container network mode; default 'host' on Linux (loopback endpoints reachable), 'bridge' elsewhere. */
  networkMode?: string;
  /** The child-process command before the producer flags (default: node pipeline/cli/bin.mjs produce). */
  processCommand?: readonly string[];
  /** Seconds a stop waits for the producer to deliver its open batch before killing it (default 20). */
  stopTimeoutSeconds?: number;
}

export interface ProducerControl {
  start(options: ProducerStartOptions): Promise<ProducerStatus>;
  stop(): Promise<ProducerStatus>;
  status(): Promise<ProducerStatus>;
  /** The last lines of output (up to 500). */
  recentLogs(): ProducerLogLine[];
  onLog(listener: (line: ProducerLogLine) => void): () => void;
  onStatus(listener: (status: ProducerStatus) => void): () => void;
}

/** start() while the producer builds, starts, runs or stops: one producer per backend (the API answers 409). */
export class ProducerBusyError extends Error {
  override name = 'ProducerBusyError';
}

/** start() with the Docker runner asked for where no Docker engine answers (the API answers 409). */
export class DockerUnavailableError extends Error {
  override name = 'DockerUnavailableError';
}

/** Environment variables handed to the producer when set here (values never logged). */
const PASSED_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_S3'];
const LOG_LINES = 500;

export function createProducerControl(options: ProducerControlOptions): ProducerControl {
  const workspace = resolve(options.workspace);
  const docker = options.docker ?? new Docker();
  const stopTimeout = options.stopTimeoutSeconds ?? 20;
  const networkMode = options.networkMode ?? (process.platform === 'linux' ? 'host' : 'bridge');
  const workspaceId = createHash('sha1').update(workspace).digest('hex').slice(0, 10);
  const containerName = `pricedrop-producer-${workspaceId}`;
  const logListeners = new Set<(line: ProducerLogLine) => void>();
  const statusListeners = new Set<(status: ProducerStatus) => void>();
  const logs: ProducerLogLine[] = [];
  let current: ProducerStatus = { state: 'idle' };
  let child: ChildProcess | undefined;
  let container: Docker.Container | undefined;
  let finished: Promise<void> | undefined;
  let lastStdout = '';
  // A start between its check and its first status change (Docker is asked first): a second
  // start meanwhile is refused, not run beside it.
  let startInProgress = false;

  function setStatus(patch: Partial<ProducerStatus>, replace = false) {
    current = replace ? (patch as ProducerStatus) : { ...current, ...patch };
    for (const listener of statusListeners) listener({ ...current });
  }

  function emitLine(stream: 'stdout' | 'stderr', line: string) {
    if (!line) return;
    if (stream === 'stdout') lastStdout = line;
    const entry = { stream, line, at: new Date().toISOString() };
    logs.push(entry);
    if (logs.length > LOG_LINES) logs.shift();
    for (const listener of logListeners) listener(entry);
  }

  function pipeLines(stream: Readable, name: 'stdout' | 'stderr') {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (data: string) => {
      buffer += data;
      const lines = buffer.split(/\r?\n|\r/);
      buffer = lines.pop() ?? '';
      for (const line of lines) emitLine(name, line);
    });
    stream.on('end', () => emitLine(name, buffer));
  }

  function summaryFromOutput(): ProducerSummary | undefined {
    try {
      const parsed = JSON.parse(lastStdout) as ProducerSummary;
      return typeof parsed.records === 'number' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  function environment(start: ProducerStartOptions): Record<string, string> {
    const env: Record<string, string> = {};
    const names = [...PASSED_ENV, start.apiKeyEnv ?? 'BESTBUY_API_KEY'];
    for (const name of names) if (process.env[name]) env[name] = process.env[name]!;
    return { ...env, ...(start.env ?? {}) };
  }

  async function dockerAnswers(): Promise<string | undefined> {
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([docker.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in 3 s')), 3000)))]).finally(() => clearTimeout(timer));
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  async function startInDocker(start: ProducerStartOptions, reason: string): Promise<void> {
    const sink = start.sink ?? lakeDir(workspace);
    setStatus({ state: 'building', runner: 'docker', runnerReason: reason, source: start.source, sink }, true);
    const image = await ensureProducerImage(docker, { baseImage: options.baseImage, onLog: (line) => emitLine('stderr', line) });
    setStatus({ state: 'starting', image: image.tag });
    const binds: string[] = [];
    const args = producerArgs({ ...start, sink: undefined, file: undefined });
    let user: string | undefined;
    const env = environment(start);
    const hostUser = typeof process.getuid === 'function' && typeof process.getgid === 'function' ? `${process.getuid()}:${process.getgid()}` : undefined;
    let hostFiles = false;
    if (sink.startsWith('s3://')) {
      args.push('--sink', sink);
      // No keys given: let the SDK's chain find the user's profiles, read-only, at a fixed place.
      const awsFolder = join(homedir(), '.aws');
      if (!env.AWS_ACCESS_KEY_ID && existsSync(awsFolder)) {
        binds.push(`${awsFolder}:/aws:ro`);
        env.AWS_CONFIG_FILE = '/aws/config';
        env.AWS_SHARED_CREDENTIALS_FILE = '/aws/credentials';
        hostFiles = true;
      }
    } else {
      // A host folder: bind it and write as the host user, so the files are the user's.
      const lake = resolve(sink);
      mkdirSync(lake, { recursive: true });
      binds.push(`${lake}:/lake`);
      args.push('--sink', '/lake');
      hostFiles = true;
    }
    if (hostFiles && hostUser) {
      // The spool and checkpoints live beside the workspace, also as the host user.
      mkdirSync(join(workspace, 'producer'), { recursive: true });
      binds.push(`${join(workspace, 'producer')}:/data/producer`);
      user = hostUser;
    } else {
      // Spool and checkpoints survive container restarts in a named volume owned by the image's user.
      binds.push(`pricedrop-producer-${workspaceId}:/data`);
    }
    if (start.file) {
      const input = resolve(start.file);
      binds.push(`${input}:/input/${basename(input)}:ro`);
      args.push('--file', `/input/${basename(input)}`);
    }
    args.push('--workspace', '/data', '--json');
    await docker.getContainer(containerName).remove({ force: true }).catch(() => undefined);
    container = await docker.createContainer({
      name: containerName,
      Image: image.tag,
      Cmd: args,
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      ...(user ? { User: user } : {}),
      Labels: { 'pricedrop.role': 'producer', 'pricedrop.workspace': workspace },
      StopTimeout: stopTimeout,
      // Init: Docker's tini as PID 1 forwards SIGTERM; node as PID 1 would ignore a SIGTERM that
      // arrives before its handler is installed, and the stop would wait for the SIGKILL.
      HostConfig: { NetworkMode: networkMode, Binds: binds, AutoRemove: false, Init: true },
    });
    // Attach before start so no line is missed (a logs stream on a created container ends at once).
    const logStream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    const streamEnded = followOutput(logStream);
    await container.start();
    setStatus({ state: 'running', containerId: container.id, startedAt: new Date().toISOString() });
    watchContainer(container, streamEnded);
  }

  /** Demultiplexes a container's output stream into log lines; resolves when it ends. */
  function followOutput(logStream: Readable): Promise<void> {
    const out = new PassThrough();
    const err = new PassThrough();
    docker.modem.demuxStream(logStream, out, err);
    pipeLines(out, 'stdout');
    pipeLines(err, 'stderr');
    return new Promise<void>((ended) =>
      logStream.on('end', () => {
        out.end();
        err.end();
        ended();
      }),
    );
  }

  /** Reports how a running container ends, then removes it. */
  function watchContainer(running: Docker.Container, streamEnded: Promise<void>): void {
    finished = running
      .wait()
      .then(async (result: { StatusCode: number }) => {
        // Let the output stream deliver the last lines (the JSON summary) before reading them.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([streamEnded, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
        await new Promise((resolve) => setImmediate(resolve));
        const exitCode = result.StatusCode;
        setStatus({ state: exitCode === 0 ? 'exited' : 'failed', exitCode, finishedAt: new Date().toISOString(), summary: summaryFromOutput(), health: undefined });
        await running.remove({ force: true }).catch(() => undefined);
      })
      .catch((error: Error) => setStatus({ state: 'failed', error: error.message }))
      .finally(() => {
        container = undefined;
      });
  }

  /**
   * A container of this workspace left running by an earlier session of the app (the app quit,
   * the producer kept going) is adopted once, at the first call: reported, followed and stoppable.
   */
  let adoption: Promise<void> | undefined;
  function adoptRunningContainer(): Promise<void> {
    adoption ??= (async () => {
      if (options.runner === 'process' || current.state !== 'idle') return;
      try {
        const existing = docker.getContainer(containerName);
        const info = await existing.inspect();
        if (!info.State.Running || current.state !== 'idle') return;
        container = existing;
        setStatus(
          { state: 'running', runner: 'docker', runnerReason: 'a producer container of this workspace was already running', containerId: info.Id, image: info.Config.Image, startedAt: info.State.StartedAt },
          true,
        );
        const logStream = (await existing.logs({ follow: true, stdout: true, stderr: true, since: Math.floor(Date.now() / 1000) })) as unknown as Readable;
        watchContainer(existing, followOutput(logStream));
      } catch {
        // No engine, or no such container: nothing to adopt.
      }
    })();
    return adoption;
  }

  function startAsProcess(start: ProducerStartOptions, reason: string): void {
    const command = options.processCommand ?? [process.execPath, join(packageRoot(), 'pipeline', 'cli', 'bin.mjs'), 'produce'];
    const args = [...command.slice(1), ...producerArgs(start), '--workspace', workspace, '--json'];
    setStatus({ state: 'starting', runner: 'process', runnerReason: reason, source: start.source, sink: start.sink ?? lakeDir(workspace) }, true);
    // ELECTRON_RUN_AS_NODE makes Electron's binary behave as node when it is process.execPath.
    const spawned = spawn(command[0]!, args, { env: { ...process.env, ...environment(start), ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    pipeLines(spawned.stdout!, 'stdout');
    pipeLines(spawned.stderr!, 'stderr');
    setStatus({ state: 'running', pid: spawned.pid, startedAt: new Date().toISOString() });
    finished = new Promise<void>((done) => {
      spawned.on('error', (error) => {
        setStatus({ state: 'failed', error: error.message, finishedAt: new Date().toISOString() });
        done();
      });
      spawned.on('close', (code, signal) => {
        setStatus({
          state: code === 0 ? 'exited' : 'failed',
          exitCode: code,
          finishedAt: new Date().toISOString(),
          summary: summaryFromOutput(),
          ...(signal ? { error: `killed by ${signal}` } : {}),
        });
        child = undefined;
        done();
      });
    });
  }

  async function startNow(start: ProducerStartOptions): Promise<ProducerStatus> {
    lastStdout = '';
    const wanted = start.runner ?? options.runner ?? 'auto';
    if (wanted === 'process') {
      startAsProcess(start, 'the child-process runner was chosen');
      return { ...current };
    }
    const unavailable = await dockerAnswers();
    if (unavailable && wanted === 'docker') throw new DockerUnavailableError(`Docker is not available (${unavailable})`);
    if (unavailable) {
      startAsProcess(start, `Docker is not available (${unavailable}): running the producer as a child process`);
      return { ...current };
    }
    try {
      await startInDocker(start, 'a Docker engine answered');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (wanted === 'auto' && !container) {
        // The engine answers but the image cannot be built or run here (e.g. the base image cannot
        // be pulled offline): the same producer still runs, as a child process.
        emitLine('stderr', `warn: Docker could not run the producer (${message}); falling back to a child process`);
        startAsProcess(start, `Docker could not run the producer (${message}): running it as a child process`);
        return { ...current };
      }
      setStatus({ state: 'failed', error: message });
      throw error;
    }
    return { ...current };
  }

  return {
    async start(start) {
      await adoptRunningContainer();
      if (startInProgress) throw new ProducerBusyError('The producer is already starting.');
      if (['building', 'starting', 'running', 'stopping'].includes(current.state)) throw new ProducerBusyError(`The producer is already ${current.state}; stop it first.`);
      startInProgress = true;
      try {
        return await startNow(start);
      } finally {
        startInProgress = false;
      }
    },

    async stop() {
      await adoptRunningContainer();
      if (child) {
        const running = child;
        setStatus({ state: 'stopping' });
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), stopTimeout * 1000);
        await finished;
        clearTimeout(timer);
      } else if (container) {
        setStatus({ state: 'stopping' });
        await container.stop({ t: stopTimeout }).catch(() => undefined);
        await finished;
      }
      return { ...current };
    },

    async status() {
      await adoptRunningContainer();
      if (container && current.state === 'running') {
        try {
          const info = await container.inspect();
          const health = info.State.Health?.Status;
          if (health !== current.health) setStatus({ health });
        } catch {
          // The container is going away; the wait() handler reports how it ended.
        }
      }
      return { ...current };
    },

    recentLogs: () => [...logs],

    onLog(listener) {
      logListeners.add(listener);
      return () => logListeners.delete(listener);
    },

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
