import crypto from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { stackSettings, uniqueName } from '../helpers/stack';

describe('MinIO through @aws-sdk/client-s3', () => {
  const settings = stackSettings();
  const s3 = new S3Client({
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    forcePathStyle: settings.S3_PATH_STYLE === 'true',
    credentials: { accessKeyId: settings.S3_ACCESS_KEY_ID, secretAccessKey: settings.S3_SECRET_ACCESS_KEY },
  });
  afterAll(() => s3.destroy());

  it('round-trips an object byte for byte, lists it, deletes it', async () => {
    const Bucket = settings.S3_BUCKET;
    const prefix = `${uniqueName('s3-smoke')}/`;
    const Key = `${prefix}blob.bin`;
    const body = crypto.randomBytes(3 * 1024 * 1024 + 17);

    await s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/octet-stream' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.length).toBe(body.length);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(crypto.createHash('sha256').update(body).digest('hex'));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([Key]);

    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('refuses wrong credentials', async () => {
    const wrong = new S3Client({
      endpoint: settings.S3_ENDPOINT,
      region: settings.S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.S3_ACCESS_KEY_ID, secretAccessKey: 'not-the-secret' },
    });
    try {
      await expect(wrong.send(new ListObjectsV2Command({ Bucket: settings.S3_BUCKET }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    } finally {
      wrong.destroy();
    }
  });
});
