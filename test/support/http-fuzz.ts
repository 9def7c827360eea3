import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { connect } from 'node:net';

/** Shared pieces of the fuzz suites (the app API, the headless predictor): sending, and watching the server's memory. */

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * Sends one request on loopback and resolves with its status, or -1 when the connection failed
 * (the server may answer 413 and close while a big body is still going out: that is fine). An
 * event stream never ends: its status is the answer, and the stream is closed.
 */
export function sendRequest(port: number, agent: Agent, shot: FuzzRequest, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: shot.method, path: shot.path, headers: shot.headers, agent }, (res) => {
      if (res.headers['content-type'] === 'text/event-stream') {
        res.destroy();
        resolve(res.statusCode ?? 0);
        return;
      }
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? -1));
    });
    req.on('error', () => resolve(-1));
    req.setTimeout(timeoutMs, () => req.destroy());
    req.end(shot.body);
  });
}

/** Raw bytes on a fresh connection; resolves with the status codes of whatever responses came back. */
export function sendRawBytes(port: number, bytes: Buffer): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => {});
    socket.setTimeout(1500, () => socket.destroy());
    socket.on('close', () => resolve([...response.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))));
    socket.end(bytes);
  });
}

/** A process's resident memory, MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}
