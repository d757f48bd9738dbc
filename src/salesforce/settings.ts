import { ERROR_CODES, SyncError } from '../errors';
/**
 * Salesforce source settings under the original pipeline's (dlt's) environment variable names, and
 * which auth method they select. One declaration per variable: meaning, default, validation and the
 * methods it belongs to (the reference, `npm run env`, reads the same). Errors name the variables
 * and the method, never a value of a secret.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { httpUrl, parseArea, settingsArea } from '../config/define';

const CRED = 'SOURCES__SALESFORCE__CREDENTIALS__';
export const salesforceEnv = {
  userName: `${CRED}USER_NAME`,
  password: `${CRED}PASSWORD`,
  securityToken: `${CRED}SECURITY_TOKEN`,
  organizationId: `${CRED}ORGANIZATION_ID`,
  consumerKey: `${CRED}CONSUMER_KEY`,
  consumerSecret: `${CRED}CONSUMER_SECRET`,
  privateKey: `${CRED}PRIVATEKEY`,
  privateKeyFile: `${CRED}PRIVATEKEY_FILE`,
  sessionId: `${CRED}SESSION_ID`,
  instanceUrl: `${CRED}INSTANCE_URL`,
  refreshToken: `${CRED}REFRESH_TOKEN`,
  credentialsDomain: `${CRED}DOMAIN`,
  domain: 'SOURCES__SALESFORCE__DOMAIN',
  version: 'SOURCES__SALESFORCE__VERSION',
} as const;

/** The API budget (src/salesforce/budget.ts applies it). */
export const BUDGET_ENV = {
  percent: 'SOURCES__SALESFORCE__API_BUDGET_PERCENT',
  action: 'SOURCES__SALESFORCE__API_BUDGET_ACTION',
  checkSeconds: 'SOURCES__SALESFORCE__API_BUDGET_CHECK_SECONDS',
} as const;

export interface BudgetSettings {
  /** Share of each daily limit the org's usage may reach for a sync to go on, 0 < share <= 1. */
  share: number;
  /** Over budget: wait until usage falls (the limits are rolling), or fail at once. */
  action: 'wait' | 'stop';
  /** While waiting, `/limits` is read again this often. */
  checkMs: number;
}

type Key = keyof typeof salesforceEnv;

export type AuthMethod =
  | { kind: 'SecurityToken'; username: string; password: string; securityToken: string }
  | { kind: 'OrganizationId'; username: string; password: string; organizationId: string }
  | { kind: 'ConsumerKeySecret'; username: string; password: string; consumerKey: string; consumerSecret: string }
  | { kind: 'JwtBearer'; username: string; consumerKey: string; privateKey?: string; privateKeyFile?: string }
  | { kind: 'ClientCredentials'; consumerKey: string; consumerSecret: string }
  | { kind: 'RefreshToken'; refreshToken: string; consumerKey: string; consumerSecret?: string }
  | { kind: 'InstanceAuth'; sessionId: string; instanceUrl: string };

type MethodName = AuthMethod['kind'];

/** The variables of each auth method: all of `required`, any of `optional`, exactly one of `oneOf`. */
export const AUTH_METHODS: Record<MethodName, { required: Key[]; optional?: Key[]; oneOf?: Key[] }> = {
  SecurityToken: { required: ['userName', 'password', 'securityToken'] },
  OrganizationId: { required: ['userName', 'password', 'organizationId'] },
  ConsumerKeySecret: { required: ['userName', 'password', 'consumerKey', 'consumerSecret'], optional: ['securityToken'] },
  JwtBearer: { required: ['userName', 'consumerKey'], oneOf: ['privateKey', 'privateKeyFile'] },
  ClientCredentials: { required: ['consumerKey', 'consumerSecret'] },
  RefreshToken: { required: ['refreshToken', 'consumerKey'], optional: ['consumerSecret'] },
  InstanceAuth: { required: ['sessionId', 'instanceUrl'] },
};

const methodsOf = (key: Key): MethodName[] =>
  (Object.keys(AUTH_METHODS) as MethodName[]).filter((m) => {
    const spec = AUTH_METHODS[m];
    return [...spec.required, ...(spec.optional ?? []), ...(spec.oneOf ?? [])].includes(key);
  });

/** The PEM text of a key given inline: keys pasted into env files often carry literal \n. */
export const pemText = (key: string) => key.replace(/\\n/g, '\n');

/** Why a PEM text is not a usable private key, or undefined when it is one (no key material in the reason). */
export function privateKeyProblem(pem: string): string | undefined {
  try {
    const key = crypto.createPrivateKey(pemText(pem));
    return key.asymmetricKeyType === 'rsa' ? undefined : `is a ${key.asymmetricKeyType} key; the JWT bearer flow signs with RS256 and needs an RSA key`;
  } catch (error) {
    const reason = ((error as { reason?: string }).reason ?? (error as Error).message).replace(/^error:[0-9A-F]+:/, '');
    return `is not a PEM private key (${reason}): give the whole key, with its -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- lines (\\n for line breaks in one line)`;
  }
}

/** `login`, `test`, a My Domain host or a URL. */
const domainSchema = z
  .string()
  .refine((d) => /^https?:\/\/[^\s/]+(?:\/\S*)?$/.test(d) || /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(d), {
    message: 'must be login, test, a My Domain (acme.my, acme.my.salesforce.com) or an http(s) URL',
  });

const m = methodsOf;
export const salesforceArea = settingsArea('salesforce', {
  [salesforceEnv.userName]: { schema: z.string().optional(), description: 'Salesforce username', methods: m('userName') },
  [salesforceEnv.password]: { schema: z.string().optional(), description: 'Salesforce password', methods: m('password'), secret: true },
  [salesforceEnv.securityToken]: { schema: z.string().optional(), description: 'security token appended to the password', methods: m('securityToken'), secret: true },
  [salesforceEnv.organizationId]: {
    schema: z
      .string()
      .regex(/^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, { message: 'must be an organization id (00D..., 15 or 18 characters)' })
      .optional(),
    description: 'organization id for IP-restricted logins without a token',
    methods: m('organizationId'),
  },
  [salesforceEnv.consumerKey]: { schema: z.string().optional(), description: 'connected app consumer key (client id)', methods: m('consumerKey') },
  [salesforceEnv.consumerSecret]: { schema: z.string().optional(), description: 'connected app consumer secret', methods: m('consumerSecret'), secret: true },
  [salesforceEnv.privateKey]: {
    schema: z
      .string()
      .superRefine((v, ctx) => {
        const problem = privateKeyProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    description: 'PEM private key (RSA) for the JWT bearer flow (\\n allowed for line breaks)',
    methods: m('privateKey'),
    secret: true,
  },
  [salesforceEnv.privateKeyFile]: { schema: z.string().optional(), description: 'path of the PEM private key (RSA) for the JWT bearer flow', methods: m('privateKeyFile') },
  [salesforceEnv.refreshToken]: { schema: z.string().optional(), description: 'OAuth refresh token', methods: m('refreshToken'), secret: true },
  [salesforceEnv.sessionId]: { schema: z.string().optional(), description: 'an existing session id (cannot be renewed)', methods: m('sessionId'), secret: true },
  [salesforceEnv.instanceUrl]: { schema: httpUrl('the Salesforce instance of the session').optional(), description: 'instance URL of the session', methods: m('instanceUrl') },
  [salesforceEnv.credentialsDomain]: { schema: domainSchema.optional(), description: 'same as SOURCES__SALESFORCE__DOMAIN' },
  [salesforceEnv.domain]: { schema: domainSchema.optional(), description: 'login, test (sandboxes), a My Domain (acme.my) or a URL', note: 'login' },
  [salesforceEnv.version]: {
    schema: z.string().regex(/^\d{2,3}\.0$/, { message: 'must be an API version like 62.0' }),
    description: 'Salesforce API version',
    default: '62.0',
  },
  [BUDGET_ENV.percent]: {
    schema: z
      .string()
      .regex(/^\d+(?:\.\d+)?\s*%?$/, { message: 'must be a percentage above 0 and at most 100 (80 or 80%)' })
      .transform((v) => Number(v.replace('%', '').trim()))
      .refine((n) => n > 0 && n <= 100, { message: 'must be a percentage above 0 and at most 100 (80 or 80%)' }),
    description:
      'percent (not a fraction) of each daily Salesforce limit the org may have used for a sync to go on: API requests, Bulk API 2.0 query jobs, Bulk result storage, all rolling 24-hour limits shared with every other integration of the org',
    default: '80',
  },
  [BUDGET_ENV.action]: {
    schema: z.enum(['wait', 'stop'], { message: 'must be wait or stop' }),
    description: `over the budget: wait (the extraction waits, saying why in its heartbeat and the workflow's progress, until usage has fallen) or stop (the object fails at once, non-retryably)`,
    default: 'wait',
  },
  [BUDGET_ENV.checkSeconds]: {
    schema: z
      .string()
      .regex(/^\d+(?:\.\d+)?$/, { message: 'must be a number of seconds above 0' })
      .transform(Number)
      .refine((n) => n > 0, { message: 'must be a number of seconds above 0' }),
    description: 'while waiting for the budget, GET /limits is read again this often (each read is an API request itself)',
    default: '300',
  },
});

export interface SalesforceSettings {
  auth: AuthMethod;
  /** Base URL logins go to: https://login.salesforce.com, https://test.salesforce.com or a My Domain. */
  loginUrl: string;
  apiVersion: string;
  /** The share of the org's daily limits a sync may use, and what happens beyond it. */
  budget?: BudgetSettings;
}

export class SalesforceSettingsError extends SyncError {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
    this.name = 'SalesforceSettingsError';
  }
}

/** `login`, `test`, a My Domain host (`acme.my`, `acme.my.salesforce.com`) or a full URL. */
export function loginUrlFor(domain: string | undefined): string {
  const d = (domain ?? 'login').trim().replace(/\/+$/, '');
  if (/^https?:\/\//.test(d)) return d;
  if (d.endsWith('.salesforce.com') || d.includes('.')) return `https://${d.endsWith('.salesforce.com') ? d : `${d}.salesforce.com`}`;
  return `https://${d}.salesforce.com`;
}

const names = (...keys: Key[]) => keys.map((k) => salesforceEnv[k]).join(', ');

/** Which method the set variables select, and the variables that made the choice. */
function chooseMethod(has: (k: Key) => boolean): { method: MethodName; because: Key[] } | undefined {
  const set = (...keys: Key[]) => keys.filter(has);
  if (has('sessionId') || has('instanceUrl')) return { method: 'InstanceAuth', because: set('sessionId', 'instanceUrl') };
  if (has('refreshToken')) return { method: 'RefreshToken', because: ['refreshToken'] };
  if (has('privateKey') || has('privateKeyFile')) return { method: 'JwtBearer', because: set('privateKey', 'privateKeyFile') };
  if (has('organizationId')) return { method: 'OrganizationId', because: ['organizationId'] };
  if (has('consumerKey') || has('consumerSecret')) {
    // A username or password means a user logs in: ConsumerKeySecret, or JwtBearer without a secret.
    if (has('password') || (has('userName') && has('consumerSecret')))
      return { method: 'ConsumerKeySecret', because: set('userName', 'password', 'consumerKey', 'consumerSecret') };
    if (has('userName')) return { method: 'JwtBearer', because: set('userName', 'consumerKey') };
    return { method: 'ClientCredentials', because: set('consumerKey', 'consumerSecret') };
  }
  if (has('userName') || has('password') || has('securityToken')) return { method: 'SecurityToken', because: set('userName', 'password', 'securityToken') };
  return undefined;
}

const NO_CREDENTIALS =
  'No Salesforce credentials are set. Set one of: ' +
  `${names('userName', 'password', 'securityToken')} (SecurityToken); ${names('userName', 'password', 'organizationId')} (OrganizationId); ` +
  `${names('userName', 'password', 'consumerKey', 'consumerSecret')} (ConsumerKeySecret); ${names('userName', 'consumerKey', 'privateKey')} or ${salesforceEnv.privateKeyFile} (JwtBearer); ` +
  `${names('consumerKey', 'consumerSecret')} with ${salesforceEnv.domain} (ClientCredentials); ${names('refreshToken', 'consumerKey')} (RefreshToken); ${names('sessionId', 'instanceUrl')} (InstanceAuth).`;

/** Every problem of the Salesforce settings (empty when they are complete and consistent). */
export function salesforceSettingsProblems(env: Record<string, string | undefined>): string[] {
  return parse(env).problems;
}

function parse(env: Record<string, string | undefined>): { settings?: SalesforceSettings; problems: string[] } {
  const parsed = parseArea(salesforceArea, env);
  const problems: string[] = [...parsed.problems];
  const get = (key: Key) => {
    const v = env[salesforceEnv[key]]?.trim();
    return v ? v : undefined;
  };
  const has = (key: Key) => get(key) !== undefined;

  if (has('domain') && has('credentialsDomain') && get('domain') !== get('credentialsDomain')) {
    problems.push(`${salesforceEnv.domain} and ${salesforceEnv.credentialsDomain} are both set, to different domains. Set one.`);
  }
  if (has('privateKey') && has('privateKeyFile')) {
    problems.push(`${salesforceEnv.privateKey} and ${salesforceEnv.privateKeyFile} are both set: the JWT bearer method takes the key inline or from a file, not both. Unset one.`);
  }

  const chosen = chooseMethod(has);
  if (!chosen) return { problems: [...problems, NO_CREDENTIALS] };
  const { method, because } = chosen;
  const spec = AUTH_METHODS[method];
  const own = new Set<Key>([...spec.required, ...(spec.optional ?? []), ...(spec.oneOf ?? [])]);

  // Variables of another method set as well: which one is meant is a guess, so it is an error.
  const credentialKeys = (Object.keys(salesforceEnv) as Key[]).filter((k) => salesforceEnv[k].startsWith('SOURCES__SALESFORCE__CREDENTIALS__') && k !== 'credentialsDomain');
  const foreign = credentialKeys.filter((k) => has(k) && !own.has(k));
  if (foreign.length > 0) {
    const other = chooseMethod((k) => foreign.includes(k))?.method ?? methodsOf(foreign[0]!).join(', ');
    problems.push(
      `${names(...foreign)} (${other}) and ${names(...because)} (${method}) are both set: they belong to different auth methods. Unset the variables of the method you do not use.`,
    );
  }
  const absent = spec.required.filter((k) => !has(k));
  if (absent.length) problems.push(`Salesforce auth method ${method} needs ${names(...absent)} (not set).`);
  if (spec.oneOf && !spec.oneOf.some(has)) problems.push(`Salesforce auth method ${method} needs ${spec.oneOf.map((k) => salesforceEnv[k]).join(' or ')} (not set).`);
  const domain = get('domain') ?? get('credentialsDomain');
  if (method === 'ClientCredentials' && (!domain || domain === 'login' || domain === 'test')) {
    problems.push(
      `Salesforce auth method ClientCredentials needs your My Domain in ${salesforceEnv.domain} (the client credentials flow does not work on login.salesforce.com or test.salesforce.com).`,
    );
  }
  if (problems.length > 0 || !parsed.ok) return { problems };

  const v = (k: Key) => get(k)!;
  const auth: AuthMethod = (() => {
    switch (method) {
      case 'InstanceAuth':
        return { kind: method, sessionId: v('sessionId'), instanceUrl: v('instanceUrl').replace(/\/+$/, '') };
      case 'RefreshToken':
        return { kind: method, refreshToken: v('refreshToken'), consumerKey: v('consumerKey'), consumerSecret: get('consumerSecret') };
      case 'JwtBearer':
        return { kind: method, username: v('userName'), consumerKey: v('consumerKey'), privateKey: get('privateKey'), privateKeyFile: get('privateKeyFile') };
      case 'ConsumerKeySecret':
        return {
          kind: method,
          username: v('userName'),
          password: v('password') + (get('securityToken') ?? ''),
          consumerKey: v('consumerKey'),
          consumerSecret: v('consumerSecret'),
        };
      case 'ClientCredentials':
        return { kind: method, consumerKey: v('consumerKey'), consumerSecret: v('consumerSecret') };
      case 'OrganizationId':
        return { kind: method, username: v('userName'), password: v('password'), organizationId: v('organizationId') };
      case 'SecurityToken':
        return { kind: method, username: v('userName'), password: v('password'), securityToken: v('securityToken') };
    }
  })();
  const budget: BudgetSettings = {
    share: (parsed.value[BUDGET_ENV.percent] as number) / 100,
    action: parsed.value[BUDGET_ENV.action] as BudgetSettings['action'],
    checkMs: (parsed.value[BUDGET_ENV.checkSeconds] as number) * 1000,
  };
  return { settings: { auth, loginUrl: loginUrlFor(domain), apiVersion: parsed.value[salesforceEnv.version] as string, budget }, problems: [] };
}

/** Reads and validates the settings, choosing the auth method from which variables are set. */
export function parseSalesforceSettings(env: Record<string, string | undefined>): SalesforceSettings {
  const { settings, problems } = parse(env);
  if (!settings) throw new SalesforceSettingsError(problems.join('\n'), problems);
  return settings;
}

/** Every secret value of the settings, for scrubbing logs and errors. */
export function secretsOf(auth: AuthMethod): string[] {
  const values = Object.entries(auth)
    .filter(([k]) => ['password', 'securityToken', 'consumerSecret', 'privateKey', 'refreshToken', 'sessionId'].includes(k))
    .map(([, v]) => v as string | undefined);
  return values.filter((v): v is string => !!v && v.length >= 4);
}
