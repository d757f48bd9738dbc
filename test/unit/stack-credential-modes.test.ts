import { describe, expect, it } from 'vitest';
import { connectionSettings, credentialMode, stackPorts } from '../../scripts/stack/servers';

describe('the local stack with vended credentials or remote signing', () => {
  const creds = { accessKeyId: 'root-key', secretAccessKey: 'root-secret' };

  it.each(['vended', 'signed'] as const)('%s: stack.env names its warehouse and bucket and holds no S3 key', (mode) => {
    const settings = connectionSettings(stackPorts({}), creds, {}, 'both', mode);
    expect(settings).toMatchObject({ ICEBERG_WAREHOUSE: mode, S3_BUCKET: mode, STACK_CREDENTIALS: mode });
    expect(Object.keys(settings).filter((k) => k.startsWith('S3_') && /KEY|TOKEN/.test(k))).toEqual([]);
    expect(JSON.stringify(settings)).not.toContain('root-secret');
  });

  it('static stays the default and keeps the keys; a wrong mode is named', () => {
    expect(credentialMode(undefined, {})).toBe('static');
    expect(credentialMode(undefined, { STACK_CREDENTIALS: 'signed' })).toBe('signed');
    expect(connectionSettings(stackPorts({}), creds, {}, 'nessie')).toMatchObject({ S3_ACCESS_KEY_ID: 'root-key', ICEBERG_WAREHOUSE: 'warehouse' });
    expect(() => credentialMode('bogus')).toThrow('--credentials=bogus is not one of static, vended, signed');
  });
});
