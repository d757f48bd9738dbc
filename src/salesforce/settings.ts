/**
 * Salesforce source settings under the original pipeline's (dlt's) environment variable names, and
 * which auth method they select. Errors name the variables and the method, never a value.
 */

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

export type AuthMethod =
  | { kind: 'SecurityToken'; username: string; password: string; securityToken: string }
  | { kind: 'OrganizationId'; username: string; password: string; organizationId: string }
  | { kind: 'ConsumerKeySecret'; username: string; password: string; consumerKey: string; consumerSecret: string }
  | { kind: 'JwtBearer'; username: string; consumerKey: string; privateKey?: string; privateKeyFile?: string }
  | { kind: 'ClientCredentials'; consumerKey: string; consumerSecret: string }
  | { kind: 'RefreshToken'; refreshToken: string; consumerKey: string; consumerSecret?: string }
  | { kind: 'InstanceAuth'; sessionId: string; instanceUrl: string };

export interface SalesforceSettings {
  auth: AuthMethod;
  /** Base URL logins go to: https://login.salesforce.com, https://test.salesforce.com or a My Domain. */
  loginUrl: string;
  apiVersion: string;
}

export class SalesforceSettingsError extends Error {
  constructor(message: string) {
    super(message);
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

/** Reads and validates the settings, choosing the auth method from which variables are set. */
export function parseSalesforceSettings(env: Record<string, string | undefined>): SalesforceSettings {
  const get = (key: keyof typeof salesforceEnv) => {
    const v = env[salesforceEnv[key]]?.trim();
    return v ? v : undefined;
  };
  const has = (key: keyof typeof salesforceEnv) => get(key) !== undefined;
  const names = (...keys: (keyof typeof salesforceEnv)[]) => keys.map((k) => salesforceEnv[k]).join(', ');
  const missing = (method: string, keys: (keyof typeof salesforceEnv)[]) => {
    const absent = keys.filter((k) => !has(k));
    if (absent.length) throw new SalesforceSettingsError(`Salesforce auth method ${method} needs ${names(...absent)} (not set).`);
  };
  const conflict = (a: keyof typeof salesforceEnv, b: keyof typeof salesforceEnv, why: string) => {
    if (has(a) && has(b)) throw new SalesforceSettingsError(`${salesforceEnv[a]} and ${salesforceEnv[b]} are both set: ${why}. Unset one.`);
  };

  conflict('securityToken', 'organizationId', 'security-token login (SecurityToken) and organization-id login (OrganizationId) are different methods');
  conflict('privateKey', 'privateKeyFile', 'the JWT bearer method takes the key inline or from a file, not both');

  const version = get('version') ?? '62.0';
  if (!/^\d{2,3}\.0$/.test(version)) throw new SalesforceSettingsError(`${salesforceEnv.version}=${version} is not an API version like 62.0.`);
  const loginUrl = loginUrlFor(get('domain') ?? get('credentialsDomain'));

  let auth: AuthMethod;
  if (has('sessionId') || has('instanceUrl')) {
    missing('InstanceAuth', ['sessionId', 'instanceUrl']);
    auth = { kind: 'InstanceAuth', sessionId: get('sessionId')!, instanceUrl: get('instanceUrl')!.replace(/\/+$/, '') };
  } else if (has('refreshToken')) {
    missing('RefreshToken', ['consumerKey']);
    auth = { kind: 'RefreshToken', refreshToken: get('refreshToken')!, consumerKey: get('consumerKey')!, consumerSecret: get('consumerSecret') };
  } else if (has('privateKey') || has('privateKeyFile')) {
    missing('JwtBearer', ['userName', 'consumerKey']);
    auth = { kind: 'JwtBearer', username: get('userName')!, consumerKey: get('consumerKey')!, privateKey: get('privateKey'), privateKeyFile: get('privateKeyFile') };
  } else if (has('consumerKey') && has('consumerSecret') && has('password')) {
    missing('ConsumerKeySecret', ['userName', 'password', 'consumerKey', 'consumerSecret']);
    auth = { kind: 'ConsumerKeySecret', username: get('userName')!, password: get('password')! + (get('securityToken') ?? ''), consumerKey: get('consumerKey')!, consumerSecret: get('consumerSecret')! };
  } else if (has('consumerKey') || has('consumerSecret')) {
    missing('ClientCredentials', ['consumerKey', 'consumerSecret']);
    if (!get('domain') && !get('credentialsDomain')) {
      throw new SalesforceSettingsError(`Salesforce auth method ClientCredentials needs your My Domain in ${salesforceEnv.domain} (the client credentials flow does not work on login.salesforce.com).`);
    }
    auth = { kind: 'ClientCredentials', consumerKey: get('consumerKey')!, consumerSecret: get('consumerSecret')! };
  } else if (has('organizationId')) {
    missing('OrganizationId', ['userName', 'password', 'organizationId']);
    auth = { kind: 'OrganizationId', username: get('userName')!, password: get('password')!, organizationId: get('organizationId')! };
  } else if (has('securityToken') || has('userName') || has('password')) {
    missing('SecurityToken', ['userName', 'password', 'securityToken']);
    auth = { kind: 'SecurityToken', username: get('userName')!, password: get('password')!, securityToken: get('securityToken')! };
  } else {
    throw new SalesforceSettingsError(
      'No Salesforce credentials are set. Set one of: ' +
        `${names('userName', 'password', 'securityToken')} (SecurityToken); ${names('userName', 'password', 'organizationId')} (OrganizationId); ` +
        `${names('userName', 'password', 'consumerKey', 'consumerSecret')} (ConsumerKeySecret); ${names('userName', 'consumerKey', 'privateKey')} or ${salesforceEnv.privateKeyFile} (JwtBearer); ` +
        `${names('consumerKey', 'consumerSecret')} with ${salesforceEnv.domain} (ClientCredentials); ${names('refreshToken', 'consumerKey')} (RefreshToken); ${names('sessionId', 'instanceUrl')} (InstanceAuth).`,
    );
  }
  return { auth, loginUrl, apiVersion: version };
}

/** Every secret value of the settings, for scrubbing logs and errors. */
export function secretsOf(auth: AuthMethod): string[] {
  const values = Object.entries(auth)
    .filter(([k]) => ['password', 'securityToken', 'consumerSecret', 'privateKey', 'refreshToken', 'sessionId'].includes(k))
    .map(([, v]) => v as string | undefined);
  return values.filter((v): v is string => !!v && v.length >= 4);
}
