/**
 * The preflight of `npm run check`, the worker and the demo: the checks of src/preflight plus one
 * that connects to Temporal (src/ has no Temporal imports).
 */
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { connectionFailure } from '../src/net';
import { parseTemporalSettings, temporalSettingsProblems } from '../src/config/temporal-settings';
import { CheckFailure, CheckSkipped, preflightChecks, runPreflight, type Check, type CheckResult } from '../src/preflight/checks';
import { searchAttributeCommands } from '../workflows/search-attributes';
import { searchAttributeState } from './search-attributes';

/** gRPC status codes the check tells apart. */
const NOT_FOUND = 5;
const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

export const temporalCheck: Check = {
  name: 'temporal',
  chain: 'temporal',
  timeoutFix: 'check TEMPORAL_ADDRESS: is the Temporal frontend running there?',
  async run(ctx) {
    if (temporalSettingsProblems(ctx.env).length > 0) throw new CheckSkipped('the Temporal settings have problems (see settings)');
    const s = parseTemporalSettings(ctx.env);
    // A plain TCP connection first: gRPC keeps retrying a port nobody listens on until its deadline.
    const [, host, port] = /^\[?(.*?)\]?:(\d+)$/.exec(s.TEMPORAL_ADDRESS)!;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: host!, port: Number(port) });
      const onAbort = () => socket.destroy();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => (socket.destroy(), resolve()));
      socket.once('error', (error) =>
        reject(new CheckFailure(`Could not connect to Temporal at ${s.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS): ${connectionFailure(error, s.TEMPORAL_ADDRESS)}`, 'check TEMPORAL_ADDRESS: is the Temporal frontend running there (npm run stack -- up for the local one)?')),
      );
      socket.once('close', () => ctx.signal.removeEventListener('abort', onAbort));
    });
    let connection: Connection;
    try {
      connection = await Connection.connect({ address: s.TEMPORAL_ADDRESS, connectTimeout: ctx.timeoutMs });
    } catch (error) {
      throw new CheckFailure(`Could not connect to Temporal at ${s.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS): ${(error as Error).message}`, 'check TEMPORAL_ADDRESS: is the Temporal frontend running there (npm run stack -- up for the local one)?');
    }
    try {
      await connection.withDeadline(Date.now() + ctx.timeoutMs, () => connection.workflowService.describeNamespace({ namespace: s.TEMPORAL_NAMESPACE }));
      const ok = `${s.TEMPORAL_ADDRESS}, namespace ${s.TEMPORAL_NAMESPACE}; task queue ${s.TEMPORAL_TASK_QUEUE}`;
      // Syncs run without the search attributes (the workflows check): said here, not failed.
      const attributes = await connection.withDeadline(Date.now() + ctx.timeoutMs, () => searchAttributeState(connection.operatorService, s.TEMPORAL_NAMESPACE)).catch(() => undefined);
      if (!attributes || (attributes.missing.length === 0 && attributes.wrongType.length === 0)) return ok;
      const problems = [...(attributes.missing.length ? [`lacks ${attributes.missing.map((k) => k.name).join(', ')}`] : []), ...attributes.wrongType];
      const fix = attributes.missing.length ? `; to list syncs by them, create them: ${searchAttributeCommands(s.TEMPORAL_NAMESPACE, attributes.missing).join(' && ')}` : '; delete and create them with the right types';
      return `${ok}; search attributes: ${problems.join('; ')} (syncs run without them${fix})`;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === NOT_FOUND) throw new CheckFailure(`Temporal at ${s.TEMPORAL_ADDRESS} has no namespace ${s.TEMPORAL_NAMESPACE} (TEMPORAL_NAMESPACE)`, `create it (temporal operator namespace create --namespace ${s.TEMPORAL_NAMESPACE}) or fix TEMPORAL_NAMESPACE`);
      if (code === PERMISSION_DENIED || code === UNAUTHENTICATED) throw new CheckFailure(`Temporal at ${s.TEMPORAL_ADDRESS} refused access to namespace ${s.TEMPORAL_NAMESPACE}: ${(error as Error).message}`, 'give this worker access to the namespace');
      if (code === UNAVAILABLE) throw new CheckFailure(`Temporal at ${s.TEMPORAL_ADDRESS} is unavailable: ${(error as Error).message}`, 'check TEMPORAL_ADDRESS and that the Temporal server is running');
      throw error;
    } finally {
      await connection.close();
    }
  },
};

/** Every check, Temporal's last. */
export function allChecks(): Check[] {
  return [...preflightChecks(), temporalCheck];
}

/** Runs every check; `onResult` sees each as soon as it and those before it are known. */
export function preflight(env: Record<string, string | undefined>, onResult?: (r: CheckResult) => void, timeoutMs?: number): Promise<CheckResult[]> {
  return runPreflight(env, { checks: allChecks(), onResult, timeoutMs });
}
