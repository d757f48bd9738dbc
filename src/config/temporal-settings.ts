import { z } from 'zod';
import { httpUrl, parseArea, settingsArea } from './define';
import { ERROR_CODES, SyncError } from '../errors';

/** host:port with a port Temporal's client accepts (the SDK's own error names neither). */
export const hostPort = z.string().superRefine((v, ctx) => {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(v);
  if (!m) ctx.addIssue({ code: 'custom', message: 'must be host:port (e.g. 127.0.0.1:7233), without a scheme' });
  else if (Number(m[2]) < 1 || Number(m[2]) > 65535) ctx.addIssue({ code: 'custom', message: 'has a port outside 1-65535' });
});

/** Temporal's envconfig reads only `true` and `1` as on: any other spelling would silently mean off. */
const tlsSwitch = z.string().regex(/^(true|false|1|0)$/, { message: 'must be true or false (Temporal reads only true, false, 1 and 0)' });

/** A PEM certificate or key given inline; `\n` stands for a line break, as in one-line .env values. */
const pemData = (what: string) =>
  z.string().refine((v) => /-----BEGIN [A-Z0-9 ]+-----/.test(v), { message: `must be ${what} in PEM (-----BEGIN ...-----), or use the _PATH setting for a file` });

/**
 * How the worker and the commands reach Temporal. The connection settings are Temporal's own
 * (the names @temporalio/envconfig and the temporal CLI read): environment variables override the
 * profile of a TOML config file, which overrides the defaults. worker/temporal-connection.ts
 * resolves them into connection options.
 */
export const temporalArea = settingsArea('temporal', {
  TEMPORAL_ADDRESS: { schema: hostPort, description: 'Temporal frontend host:port', default: '127.0.0.1:7233' },
  TEMPORAL_NAMESPACE: { schema: z.string(), description: 'Temporal namespace', default: 'default' },
  TEMPORAL_TASK_QUEUE: { schema: z.string(), description: 'task queue of the worker (and of the workflows the commands start)', default: 'salesforce-sync' },
  TEMPORAL_UI_URL: { schema: httpUrl('the Temporal Web UI'), description: 'Web UI, for links in output', default: 'http://127.0.0.1:8233' },
  TEMPORAL_API_KEY: { schema: z.string().optional(), description: 'API key (Temporal Cloud), sent as `authorization: Bearer`; turns TLS on', secret: true },
  TEMPORAL_TLS: { schema: tlsSwitch.optional(), description: 'TLS on or off', note: 'on when an API key or any TLS setting is given' },
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: { schema: z.string().optional(), description: "PEM file of the CA that signed the server's certificate", note: "the system's trusted CAs" },
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: { schema: pemData('a CA certificate').optional(), description: 'the same CA certificate, as PEM text' },
  TEMPORAL_TLS_SERVER_NAME: { schema: z.string().optional(), description: "name the server's certificate must carry, when not the host of the address" },
  TEMPORAL_TLS_CLIENT_CERT_PATH: { schema: z.string().optional(), description: 'PEM file of the client certificate (mTLS), with a client key' },
  TEMPORAL_TLS_CLIENT_CERT_DATA: { schema: pemData('a certificate').optional(), description: 'the client certificate, as PEM text' },
  TEMPORAL_TLS_CLIENT_KEY_PATH: { schema: z.string().optional(), description: 'PEM file of the client private key (mTLS)' },
  TEMPORAL_TLS_CLIENT_KEY_DATA: { schema: pemData('a private key').optional(), description: 'the client private key, as PEM text', secret: true },
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: {
    schema: tlsSwitch
      .refine((v) => v === 'false' || v === '0', {
        message: "is not supported by Temporal's TypeScript SDK: set TEMPORAL_TLS_SERVER_NAME to the name in the server's certificate instead",
      })
      .optional(),
    description: 'not supported (the TypeScript SDK always verifies the server name)',
  },
  TEMPORAL_PROFILE: { schema: z.string().optional(), description: 'profile of the config file to use', note: '`default`, if the file has it' },
  TEMPORAL_CONFIG_FILE: { schema: z.string().optional(), description: 'Temporal TOML config file with profiles', note: '`~/.config/temporalio/temporal.toml`, if present' },
});

export type TemporalSettings = z.output<typeof temporalArea.schema>;

/** The pairs of which only one may be set (Temporal's own rule for a file and its content). */
export const TLS_SOURCES = [
  ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
  ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
] as const;

/**
 * The temporal CLI's older TLS names, which it still reads and lets win, but Temporal's SDKs do
 * not: set alone, the CLI would use TLS settings the worker does not see.
 */
export const CLI_LEGACY_TLS_NAMES: Record<string, string> = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_CERT_DATA: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_KEY_DATA: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  TEMPORAL_TLS_CA_DATA: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
};

/**
 * TEMPORAL_* names Temporal's tools read that the worker does not need, and prefixes of names
 * (TEMPORAL_GRPC_META_<HEADER>: a gRPC header sent with every request): never reported as typos.
 */
export const TEMPORAL_TOOL_NAMES = ['TEMPORAL_CODEC_ENDPOINT', 'TEMPORAL_CODEC_AUTH', 'TEMPORAL_ENV'];
export const TEMPORAL_GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

const set = (env: Record<string, string | undefined>, name: string) => (env[name]?.trim() ?? '') !== '';

/** Settings that contradict each other or would do nothing, by name (values are never shown). */
function temporalConflicts(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [file, data] of TLS_SOURCES) if (set(env, file) && set(env, data)) problems.push(`${file} and ${data} are both set: give the file or its content, not both`);
  const cert = set(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH') || set(env, 'TEMPORAL_TLS_CLIENT_CERT_DATA');
  const key = set(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH') || set(env, 'TEMPORAL_TLS_CLIENT_KEY_DATA');
  if (cert !== key)
    problems.push(
      `a client certificate (mTLS) needs both ${cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA)' : 'TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA)'} and ${cert ? 'TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA)' : 'TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA)'}: only one is set`,
    );
  if (/^(false|0)$/.test(env.TEMPORAL_TLS?.trim() ?? '')) {
    const tlsOnly = Object.keys(temporalArea.specs).filter((n) => n.startsWith('TEMPORAL_TLS_') && n !== 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION' && set(env, n));
    if (tlsOnly.length) problems.push(`TEMPORAL_TLS is false, so ${tlsOnly.join(', ')} would do nothing: unset ${tlsOnly.length > 1 ? 'them' : 'it'} or turn TLS on`);
  }
  for (const [old, current] of Object.entries(CLI_LEGACY_TLS_NAMES)) {
    if (set(env, old) && env[old]!.trim() !== env[current]?.trim())
      problems.push(
        `${old} is the temporal CLI's older name of ${current}, which Temporal's SDKs (and so the worker) do not read: rename it to ${current} (the CLI reads that too)`,
      );
  }
  return problems;
}

export function temporalSettingsProblems(env: Record<string, string | undefined>): string[] {
  return [...parseArea(temporalArea, env).problems, ...temporalConflicts(env)];
}

/** Validated Temporal settings, defaults applied; throws listing every problem. */
export function parseTemporalSettings(env: Record<string, string | undefined>): TemporalSettings {
  const parsed = parseArea(temporalArea, env);
  const problems = [...parsed.problems, ...temporalConflicts(env)];
  if (!parsed.ok || problems.length)
    throw new SyncError(`Invalid Temporal settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  return parsed.value;
}
