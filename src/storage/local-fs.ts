import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ObjectStore, ObjectWriter } from './object-store';

/** Objects as files under file:// URIs (DuckDB mode, local debugging). */
export class LocalObjectStore implements ObjectStore {
  async put(uri: string, body: Uint8Array): Promise<void> {
    const file = fileURLToPath(uri);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half a file.
    const tmp = `${file}.tmp-${process.pid}`;
    await fs.promises.writeFile(tmp, body);
    await fs.promises.rename(tmp, file);
  }

  async get(uri: string): Promise<Uint8Array> {
    return new Uint8Array(await fs.promises.readFile(fileURLToPath(uri)));
  }

  async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    const handle = await fs.promises.open(fileURLToPath(uri), 'r');
    try {
      const out = new Uint8Array(Math.max(0, end - start));
      const { bytesRead } = await handle.read(out, 0, out.length, start);
      return out.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async exists(uri: string): Promise<boolean> {
    return fs.existsSync(fileURLToPath(uri));
  }

  async delete(uris: string[]): Promise<void> {
    await Promise.all(uris.map((u) => fs.promises.rm(fileURLToPath(u), { force: true })));
  }

  openWrite(uri: string): ObjectWriter {
    const file = fileURLToPath(uri);
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    let handle: fs.promises.FileHandle | undefined;
    let total = 0;
    return {
      write: async (chunk) => {
        if (!handle) {
          await fs.promises.mkdir(path.dirname(file), { recursive: true });
          handle = await fs.promises.open(tmp, 'w');
        }
        await handle.write(chunk);
        total += chunk.byteLength;
      },
      complete: async () => {
        if (!handle) await this.put(uri, new Uint8Array(0));
        else {
          await handle.close();
          await fs.promises.rename(tmp, file);
        }
        return total;
      },
      abort: async () => {
        await handle?.close();
        await fs.promises.rm(tmp, { force: true });
      },
    };
  }

  async *list(prefix: string): AsyncIterable<{ uri: string; size: number; lastModified?: Date }> {
    const base = fileURLToPath(prefix);
    const root = prefix.endsWith('/') ? base : path.dirname(base);
    if (!fs.existsSync(root)) return;
    for (const entry of await fs.promises.readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const uri = pathToFileURL(full).href;
      if (!uri.startsWith(prefix)) continue;
      const stat = await fs.promises.stat(full);
      yield { uri, size: stat.size, lastModified: stat.mtime };
    }
  }
}
