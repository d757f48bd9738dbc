import { describe, expect, it } from 'vitest';
import { s3SettingsFor } from '../../src/storage/s3';

describe('S3 settings for a table', () => {
  const base = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', pathStyle: true, accessKeyId: 'static-key', secretAccessKey: 'static-secret' };

  it('uses credentials the catalog vended for the table over static ones', () => {
    const s = s3SettingsFor(base, { 's3.access-key-id': 'vended-key', 's3.secret-access-key': 'vended-secret', 's3.session-token': 'tok' });
    expect(s).toMatchObject({ accessKeyId: 'vended-key', secretAccessKey: 'vended-secret', sessionToken: 'tok' });
  });

  it('keeps static credentials when nothing was vended', () => {
    expect(s3SettingsFor(base, { 's3.endpoint': 'http://minio:9000' })).toMatchObject({ accessKeyId: 'static-key', secretAccessKey: 'static-secret' });
  });

  it('prefers the configured endpoint; takes the catalog’s when none is configured', () => {
    expect(s3SettingsFor(base, { 's3.endpoint': 'http://minio:9000' }).endpoint).toBe('http://127.0.0.1:9000');
    const noEndpoint = s3SettingsFor({ ...base, endpoint: undefined, pathStyle: false }, { 's3.endpoint': 'http://minio:9000', 's3.path-style-access': 'true' });
    expect(noEndpoint).toMatchObject({ endpoint: 'http://minio:9000', pathStyle: true });
  });
});
