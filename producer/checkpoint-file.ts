import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A source's saved resume state (JSON), or undefined when there is none yet or it cannot be read. */
export async function readCheckpointFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Saves a source's resume state through a temporary file and a rename: a kill leaves the old state or the new one. */
export async function writeCheckpointFile(file: string, checkpoint: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(checkpoint));
  await rename(`${file}.tmp`, file);
}
