/**
 * The preflight of `npm run check`, the worker and the demo: the checks of src/preflight plus one
 * that connects to Temporal (src/ has no Temporal imports).
 */
import net from 'node:net';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { connectionFailure } from '../src/net';
import { temporalSettingsProblems } from '../src/config/temporal-settings';
import { connectionFix, describeConnection, temporalConnection, type TemporalConnection } from './temporal-connection';
import { CheckFailure, CheckSkipped, preflightChecks, runPreflight, type Check, type CheckResult } from '../src/preflight/checks';
import { searchAttributeCommands } from '../activities/search-attributes';
import { searchAttributeState } from '../activities/search-attribute-state';

/** gRPC status codes the check tells apart. */
const NOT_FOUND = 5;
const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/**
 * A TLS handshake as gRPC will make it: gRPC's own error for a refused certificate is only "Failed
 * to connect before the deadline", after the whole time limit; node's says what is wrong at once.
 */
function tlsHandshake(t: TemporalConnection, host: string, port: number, signal: AbortSignal): Promise<void> {
  const config = (typeof t.options.tls === 'object' && t.options.tls) || {};
  const servername = config.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise<void>((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      ALPNProtocols: ['h2'],
      ...(config.serverRootCACertificate ? { ca: Buffer.from(config.serverRootCACertificate) } : {}),
      ...(config.clientCertPair ? { cert: Buffer.from(config.clientCertPair.crt), key: Buffer.from(config.clientCertPair.key) } : {}),
    });
    const onAbort = () => socket.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => (socket.destroy(), resolve()));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // OpenSSL's text for a plain-text server is "...:ssl3_get_record:wrong version number:...".
      const reason = error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || error.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ? 'the server does not answer with TLS' : error.message;
      const message = `Could not connect to Temporal at ${describeConnection(t)}: the TLS handshake failed: ${reason}`;
      reject(new CheckFailure(message, connectionFix(t, message)));
    });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
  });
}

export const temporalCheck: Check = {
  name: 'temporal',
  chain: 'temporal',
  timeoutFix: 'check TEMPORAL_ADDRESS: is the Temporal frontend running there?',
  async run(ctx) {
    if (temporalSettingsProblems(ctx.env).length > 0) throw new CheckSkipped('the Temporal settings have problems (see settings)');
    let t: TemporalConnection;
    try {
      t = temporalConnection(ctx.env);
    } catch (error) {
      // The config file's profile and the certificate files are read here, not by the settings check.
      throw new CheckFailure((error as Error).message, 'fix the Temporal settings named above');
    }
    const at = describeConnection(t);
    // A plain TCP connection first: gRPC keeps retrying a port nobody listens on until its deadline.
    const [, host, port] = /^\[?(.*?)\]?:(\d+)$/.exec(t.address)!;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: host!, port: Number(port) });
      const onAbort = () => socket.destroy();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => (socket.destroy(), resolve()));
      socket.once('error', (error) =>
        reject(
          new CheckFailure(
            `Could not connect to Temporal at ${t.address} (TEMPORAL_ADDRESS): ${connectionFailure(error, t.address)}`,
            'check TEMPORAL_ADDRESS: is the Temporal frontend running there (npm run stack -- up for the local one)?',
          ),
        ),
      );
      socket.once('close', () => ctx.signal.removeEventListener('abort', onAbort));
    });
    if (t.tls) await tlsHandshake(t, host!, Number(port), ctx.signal);
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...t.options, connectTimeout: ctx.timeoutMs });
    } catch (error) {
      const message = (error as Error).message;
      throw new CheckFailure(`Could not connect to Temporal at ${at}: ${message}`, connectionFix(t, message));
    }
    try {
      await connection.withDeadline(Date.now() + ctx.timeoutMs, () => connection.workflowService.describeNamespace({ namespace: t.namespace }));
      const ok = `${at}, namespace ${t.namespace}; task queue ${t.taskQueue}`;
      // Syncs run without the search attributes (the workflows check): said here, not failed.
      const attributes = await connection.withDeadline(Date.now() + ctx.timeoutMs, () => searchAttributeState(connection.operatorService, t.namespace)).catch(() => undefined);
      if (!attributes || (attributes.missing.length === 0 && attributes.wrongType.length === 0)) return ok;
      const problems = [...(attributes.missing.length ? [`lacks ${attributes.missing.map((k) => k.name).join(', ')}`] : []), ...attributes.wrongType];
      const fix = attributes.missing.length
        ? `; to list syncs by them, create them: ${searchAttributeCommands(t.namespace, attributes.missing).join(' && ')}`
        : '; delete and create them with the right types';
      return `${ok}; search attributes: ${problems.join('; ')} (syncs run without them${fix})`;
    } catch (error) {
      const code = (error as { code?: number }).code;
      const message = (error as Error).message;
      if (code === NOT_FOUND)
        throw new CheckFailure(
          `Temporal at ${t.address} has no namespace ${t.namespace} (TEMPORAL_NAMESPACE)`,
          `create it (temporal operator namespace create --namespace ${t.namespace}) or fix TEMPORAL_NAMESPACE`,
        );
      if (code === PERMISSION_DENIED || code === UNAUTHENTICATED)
        throw new CheckFailure(
          `Temporal at ${t.address} refused access to namespace ${t.namespace}: ${message}`,
          t.apiKey || t.tls
            ? `check ${t.apiKey ?? 'TEMPORAL_API_KEY'} or the client certificate, and that it gives access to this namespace`
            : 'give this worker access to the namespace (an API key in TEMPORAL_API_KEY, or a client certificate)',
        );
      if (code === UNAVAILABLE) throw new CheckFailure(`Temporal at ${at} is unavailable: ${message}`, connectionFix(t, message));
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
export function preflight(
  env: Record<string, string | undefined>,
  onResult?: (r: CheckResult) => void,
  timeoutMs?: number,
  opts: { hiddenFields?: boolean } = {},
): Promise<CheckResult[]> {
  return runPreflight(env, { checks: allChecks(), onResult, timeoutMs, ...opts });
}
