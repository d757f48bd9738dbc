import fs from 'node:fs';
import { writeEnvFile } from '../../src/config/env-file';
import { ensureInstalled, installedVersions, planInstall, type Tools } from './install';
import { stackDir, stackPaths, logFile } from './paths';
import { isOurs, portInUse, portOwner, sleep, startDetached, stopProcess, tailOf, type StartedProcess } from './processes';
import {
  catalogChoice,
  connectionSettings,
  credentialMode,
  serverSpecs,
  stackCredentials,
  stackPorts,
  stackPrivateSettings,
  writeStackCredentials,
  type CatalogChoice,
  type ServerSpec,
} from './servers';
import { StackError } from './toolchain';
import { lakekeeperBinary, lakekeeperDataDir } from './lakekeeper';

export { StackError } from './toolchain';

interface StackState {
  servers: Partial<Record<ServerSpec['name'], StartedProcess>>;
  /** The catalog(s) the last `up` chose, so `status` checks the same servers. */
  catalog?: CatalogChoice;
}

type Log = (line: string) => void;

function readState(): StackState {
  try {
    return JSON.parse(fs.readFileSync(stackPaths.state, 'utf8')) as StackState;
  } catch {
    return { servers: {} };
  }
}

/** The catalog choice the stack was last brought up with (undefined before the first `up`). */
export function lastCatalog(): CatalogChoice | undefined {
  return readState().catalog;
}

function writeState(state: StackState): void {
  fs.mkdirSync(stackDir, { recursive: true });
  fs.writeFileSync(stackPaths.state, `${JSON.stringify(state, null, 2)}\n`);
}

function startTimeoutMs(): number {
  const seconds = Number(process.env.STACK_START_TIMEOUT_S ?? 180);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 180) * 1000;
}

async function probe(spec: ServerSpec): Promise<string | undefined> {
  try {
    await Promise.race([spec.healthy(), sleep(8000).then(() => Promise.reject(new Error('no answer within 8 s')))]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Waits until the server is healthy; fails early if its process dies, or at the deadline. */
async function waitHealthy(spec: ServerSpec, proc: StartedProcess, deadline: number): Promise<void> {
  let lastProblem = 'not started';
  while (Date.now() < deadline) {
    if (!isOurs(proc)) {
      throw new StackError(`${spec.title} exited during start-up. Last lines of ${proc.log}:\n${tailOf(proc.log)}`);
    }
    const problem = await probe(spec);
    if (problem === undefined) return;
    lastProblem = problem;
    await sleep(500);
  }
  throw new StackError(
    `${spec.title} did not become healthy within ${Math.round(startTimeoutMs() / 1000)} s (last check: ${lastProblem}). ` +
      `Raise STACK_START_TIMEOUT_S if this machine is just slow. Last lines of ${proc.log}:\n${tailOf(proc.log)}`,
  );
}

export interface UpResult {
  settings: Record<string, string>;
  started: string[];
  alreadyRunning: string[];
  tools: Tools;
}

/**
 * Installs what is missing, starts every server that is not already running (ours and healthy),
 * waits until each is healthy and writes the connection settings to .stack/stack.env.
 */
export async function up(options: { readers?: boolean; catalog?: string; credentials?: string; log?: Log } = {}): Promise<UpResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const ports = stackPorts();
  const catalog = catalogChoice(options.catalog);
  const credentials = credentialMode(options.credentials);
  const state = readState();

  // Before anything is installed or started: without a Lakekeeper binary, say what is missing at once.
  if (catalog === 'lakekeeper') lakekeeperBinary();
  log('Checking tools ...');
  const tools = await ensureInstalled({ readers: options.readers ?? true, restCatalog: catalog === 'rest' || catalog === 'both', log });
  const creds = stackCredentials();
  writeStackCredentials(creds);
  const specs = serverSpecs(tools, ports, creds, catalog);
  state.catalog = catalog;

  const alreadyRunning: string[] = [];
  const toStart: ServerSpec[] = [];
  for (const spec of specs) {
    const known = state.servers[spec.name];
    if (known && isOurs(known)) {
      const problem = await probe(spec);
      if (problem === undefined) {
        alreadyRunning.push(spec.name);
        continue;
      }
      log(`${spec.title} (pid ${known.pid}) is running but unhealthy (${problem}); restarting it.`);
      await stopProcess(known);
    }
    delete state.servers[spec.name];
    toStart.push(spec);
  }
  writeState(state);

  const busy: string[] = [];
  for (const spec of toStart) {
    for (const p of spec.ports) {
      if (await portInUse(p)) {
        const owner = portOwner(p);
        busy.push(`port ${p} (${spec.title}) is already in use${owner ? ` by ${owner}` : ''}`);
      }
    }
  }
  if (busy.length > 0) {
    throw new StackError(
      `Cannot start the local stack:\n${busy.map((b) => `  - ${b}`).join('\n')}\n` +
        'Stop whatever holds those ports, or move the stack with STACK_TEMPORAL_PORT, STACK_TEMPORAL_UI_PORT, STACK_MINIO_PORT, ' +
        'STACK_MINIO_CONSOLE_PORT, STACK_NESSIE_PORT, STACK_NESSIE_MANAGEMENT_PORT, STACK_REST_CATALOG_PORT.',
    );
  }

  for (const dir of [stackPaths.logs, stackPaths.temporalData, stackPaths.minioData, stackPaths.nessieData, stackPaths.restCatalogData]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  const started: StartedProcess[] = [];
  try {
    for (const spec of toStart) {
      log(`Starting ${spec.title} ...`);
      fs.appendFileSync(logFile(spec.name), `\n=== started ${new Date().toISOString()} ===\n`);
      const proc = startDetached(spec.command, spec.args, { env: spec.env, log: logFile(spec.name) });
      state.servers[spec.name] = proc;
      started.push(proc);
      writeState(state); // recorded at once so `down` can stop it even if start-up fails later
    }
    const deadline = Date.now() + startTimeoutMs();
    await Promise.all(
      toStart.map(async (spec) => {
        await waitHealthy(spec, state.servers[spec.name]!, deadline);
        await spec.afterStart?.();
        log(`  ${spec.title} is healthy: ${spec.urls.join(', ')}`);
      }),
    );
  } catch (error) {
    for (const proc of started) await stopProcess(proc);
    for (const spec of toStart) delete state.servers[spec.name];
    writeState(state);
    throw error;
  }
  for (const spec of specs.filter((s) => alreadyRunning.includes(s.name))) {
    await spec.afterStart?.();
    log(`  ${spec.title} was already running: ${spec.urls.join(', ')}`);
  }

  // A catalog left running from an earlier choice keeps running until `down`; say so.
  for (const name of Object.keys(state.servers)) {
    if (!specs.some((s) => s.name === name)) log(`  ${name} is still running from an earlier \`up\`; \`npm run stack -- down\` stops it.`);
  }

  const settings = connectionSettings(ports, creds, tools, catalog, credentials);
  if (credentials !== 'static') {
    log(
      catalog === 'rest'
        ? `  --credentials ${credentials} applies to Nessie only; the reference REST catalog keeps static keys.`
        : `  Storage credentials: ${credentials === 'vended' ? 'vended by Nessie (MinIO STS sessions)' : 'none; Nessie signs each S3 request'}; stack.env holds no S3 keys.`,
    );
  }
  writeEnvFile(stackPaths.settings, settings, 'Written by `npm run stack -- up`: how to reach the local stack. Do not edit; put overrides in .env.');
  log(`Connection settings written to ${stackPaths.settings}`);
  return { settings, started: toStart.map((s) => s.name), alreadyRunning, tools };
}

/** Stops exactly the processes `up` started (by recorded pid and command line), nothing else. */
export async function down(options: { purge?: boolean; log?: Log } = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const state = readState();
  for (const [name, proc] of Object.entries(state.servers)) {
    if (!proc) continue;
    const outcome = await stopProcess(proc);
    log(`${name}: ${outcome === 'not running' ? 'was not running' : `${outcome} (pid ${proc.pid})`}`);
    delete state.servers[name as ServerSpec['name']];
    writeState(state);
  }
  if (Object.keys(readState().servers).length === 0) log('The local stack is down.');
  if (options.purge) {
    for (const dir of [stackPaths.temporalData, stackPaths.minioData, stackPaths.nessieData, stackPaths.restCatalogData, lakekeeperDataDir])
      fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(stackPaths.settings, { force: true });
    fs.rmSync(stackPrivateSettings(), { force: true });
    log(`Removed the stack's data and settings under ${stackDir}.`);
  }
}

export interface ServerStatus {
  name: string;
  title: string;
  pid?: number;
  running: boolean;
  healthy: boolean;
  problem?: string;
  urls: string[];
  log: string;
}

/** Whether each server runs (our pid) and answers its health check. */
export async function status(): Promise<{ servers: ServerStatus[]; versions: Record<string, string> }> {
  const state = readState();
  let tools: Partial<Tools> = {};
  try {
    tools = planInstall({ readers: false }).tools;
  } catch {
    // a missing toolchain is reported by `up`; status still reports the processes
  }
  let creds;
  try {
    creds = stackCredentials();
  } catch {
    creds = { accessKeyId: '', secretAccessKey: '' };
  }
  // The servers the last `up` chose, and any other one of ours still running.
  const chosen = new Set(serverSpecs(tools as Tools, stackPorts(), creds, state.catalog ?? 'nessie').map((spec) => spec.name));
  const specs = serverSpecs(tools as Tools, stackPorts(), creds, 'both').filter((spec) => chosen.has(spec.name) || state.servers[spec.name] !== undefined);
  const servers = await Promise.all(
    specs.map(async (spec): Promise<ServerStatus> => {
      const proc = state.servers[spec.name];
      const running = proc !== undefined && isOurs(proc);
      const problem = running ? await probe(spec) : 'not running';
      return {
        name: spec.name,
        title: spec.title,
        pid: running ? proc!.pid : undefined,
        running,
        healthy: problem === undefined,
        problem,
        urls: spec.urls,
        log: logFile(spec.name),
      };
    }),
  );
  return { servers, versions: installedVersions(tools) };
}
