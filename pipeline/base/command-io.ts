import type { CommandIo } from './command-line';

/**
 * The standard CommandIo: stdout carries results (one JSON line with --json), stderr carries
 * progress and messages. On a TTY the progress bar redraws in place; otherwise it prints a line
 * at most every 10 % so logs stay readable.
 */
export function createCommandIo(stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr): CommandIo {
  const isTty = 'isTTY' in stderr && Boolean(stderr.isTTY);
  let lastLabel = '';
  let lastBucket = -1;
  let lastDraw = 0;
  let barOpen = false;
  const closeBar = () => {
    if (barOpen) {
      stderr.write('\n');
      barOpen = false;
    }
  };
  return {
    log(message) {
      closeBar();
      stderr.write(message + '\n');
    },
    out(message) {
      closeBar();
      stdout.write(message + '\n');
    },
    json(value) {
      closeBar();
      stdout.write(JSON.stringify(value) + '\n');
    },
    progress(label, done, total) {
      const fraction = total && total > 0 ? Math.min(1, done / total) : undefined;
      if (isTty) {
        const now = Date.now();
        if (now - lastDraw < 80 && fraction !== 1) return;
        lastDraw = now;
        const width = 28;
        const bar = fraction === undefined ? '' : '[' + '#'.repeat(Math.round(fraction * width)).padEnd(width, '.') + '] ';
        const count = total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}` : done.toLocaleString('en-US');
        const pct = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0)}%`;
        stderr.write(`\r${label} ${bar}${count}${pct}\x1b[K`);
        barOpen = true;
        if (fraction === 1) closeBar();
        return;
      }
      const bucket = fraction === undefined ? Math.floor(Math.log10(Math.max(1, done))) : Math.floor(fraction * 10);
      if (label === lastLabel && bucket === lastBucket) return;
      lastLabel = label;
      lastBucket = bucket;
      const count = total ? `${done}/${total}` : `${done}`;
      stderr.write(`${label}: ${count}${fraction === undefined ? '' : ` (${(fraction * 100).toFixed(0)}%)`}\n`);
    },
  };
}
