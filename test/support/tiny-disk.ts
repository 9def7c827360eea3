import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tiny file system for full-disk tests: a tmpfs the test mounts (as root, as CI runs), fills to
 * a chosen number of free bytes, and grows again with `mount -o remount,size=…`, so a writer meets
 * a real ENOSPC / SQLITE_FULL and then gets its room back. Where mounting is not permitted (not
 * root, a container without CAP_SYS_ADMIN), `tinyDiskUnavailable` says why and the suites skip
 * with that reason in their title.
 */
export interface TinyDisk {
  readonly path: string;
  /** Bytes free right now. */
  free(): number;
  /** Writes a ballast file until only about `bytes` are left free. */
  fill(bytes: number): void;
  /** Gives the disk `size` (e.g. '64m') with `mount -o remount,size=…`: room is back. */
  grow(size: string): void;
  /** Unmounts and removes the mount point. */
  remove(): void;
}

function mount(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // something still holds a file open: detach it
  }
}

/** Why tiny disks cannot be made here, or undefined when they can (probed once: mount and unmount a 1 MB tmpfs). */
export const tinyDiskUnavailable: string | undefined = (() => {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs as root; run the suite as root to include these tests)';
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-tinydisk-probe-'));
  try {
    mount(dir, '1m');
    unmount(dir);
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `mounting a tmpfs is not permitted here (${stderr || (error as Error).message})`;
  } finally {
    rmdirSync(dir);
  }
})();

if (tinyDiskUnavailable) console.warn(`full-disk tests skipped: ${tinyDiskUnavailable}`);

/** Mounts a tmpfs of `size` (e.g. '8m') in a new temporary folder. */
export function mountTinyDisk(size: string, prefix = 'pricedrop-tinydisk-'): TinyDisk {
  if (tinyDiskUnavailable) throw new Error(tinyDiskUnavailable);
  const path = mkdtempSync(join(tmpdir(), prefix));
  mount(path, size);
  let ballast = 0;
  const free = () => {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  };
  return {
    path,
    free,
    fill(bytes) {
      const fd = openSync(join(path, `.ballast-${++ballast}`), 'w');
      const chunk = Buffer.alloc(64 * 1024, 0x2e);
      try {
        for (let left = free() - bytes; left > 0; left = free() - bytes) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    grow(size) {
      execFileSync('mount', ['-o', `remount,size=${size}`, path], { stdio: 'pipe' });
    },
    remove() {
      unmount(path);
      rmdirSync(path);
    },
  };
}
