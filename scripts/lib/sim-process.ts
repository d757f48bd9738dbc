import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * The simulator in its own process (its CPU and memory stay out of the measured processes'
 * figures), started with `npm run sim`'s arguments. It does not compress: on 127.0.0.1 gzip would
 * only move CPU from the wire to both processes.
 */
export async function startSimulatorProcess(args: string[]): Promise<{ url: string; stop: () => void }> {
  const scripts = path.join(__dirname, '..');
  const tsx = path.join(scripts, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(scripts, 'sim.ts'), ...args, '--no-gzip'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Salesforce simulator on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}
