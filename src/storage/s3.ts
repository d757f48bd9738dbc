import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ERROR_CODES, SyncError } from '../errors';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, RequestSigner } from '@smithy/types';
import { ListingNotAllowedError, splitS3Uri, type ObjectStore, type ObjectWriter } from './object-store';
import { SignerRefusedError } from './remote-signer';

/** Multipart part size: S3 needs at least 5 MiB per part but the last. */
const PART_BYTES = 8 * 1024 * 1024;

export interface S3Settings {
  endpoint?: string;
  /** Unset: the catalog's client.region, else us-east-1. */
  region?: string;
  pathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/**
 * S3 settings for a table: credentials the catalog vended for it win over static ones (so a
 * catalog that scopes access per table just works); the endpoint the user configured wins over
 * the catalog's (the catalog may name an address only it can reach).
 */
export function s3SettingsFor(base: S3Settings, tableConfig: Record<string, string> = {}): S3Settings {
  const vended = tableConfig['s3.access-key-id'] && tableConfig['s3.secret-access-key'];
  return {
    endpoint: base.endpoint ?? tableConfig['s3.endpoint'],
    region: base.region ?? tableConfig['client.region'] ?? tableConfig['s3.region'] ?? 'us-east-1',
    pathStyle: base.endpoint ? base.pathStyle : tableConfig['s3.path-style-access'] === 'true' || base.pathStyle,
    accessKeyId: vended ? tableConfig['s3.access-key-id'] : base.accessKeyId,
    secretAccessKey: vended ? tableConfig['s3.secret-access-key'] : base.secretAccessKey,
    sessionToken: vended ? tableConfig['s3.session-token'] : base.sessionToken,
  };
}

/**
 * Where a store's authority comes from when it is not static keys: credentials the catalog vends
 * (renewed before they expire), or the catalog signing each request.
 */
export interface S3Access {
  /** Vended credentials: the current ones, renewed when they near their expiry. */
  credentials?: AwsCredentialIdentityProvider;
  /** Remote signing: the catalog signs each request; the store holds no key. */
  signer?: RequestSigner;
  /**
   * S3 refused a request for expired or unknown credentials: renew them now. The request is then
   * sent once more.
   */
  renew?: () => Promise<void>;
}

/** S3 error codes that mean the credentials expired or are no longer known (not a lack of permission). */
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'InvalidTokenId', 'TokenRefreshRequired', 'InvalidAccessKeyId', 'RequestExpired']);

export function isExpiredCredentialsError(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return EXPIRED_CREDENTIALS.has(e.name ?? '') || EXPIRED_CREDENTIALS.has(e.Code ?? '');
}

/**
 * The identity the SDK caches is asked for again before every request (its expiration is always
 * within the SDK's 5-minute refresh window), so the provider behind it alone decides when to renew.
 */
function uncached(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  return async (options) => {
    const identity: AwsCredentialIdentity = await provider(options);
    return { ...identity, expiration: new Date(Date.now() + 60_000) };
  };
}

/** Remote signing needs no key; the SDK still asks for an identity before it signs. */
const noKey: AwsCredentialIdentityProvider = async () => ({ accessKeyId: 'signed-by-the-catalog', secretAccessKey: 'none' });

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  /** Requests signed by the catalog: it signs per object path, so no bucket-level batch delete or listing. */
  private readonly signedByCatalog: boolean;
  /** Authority from the catalog (vended or signed): scoped to what a table's files need. */
  private readonly fromCatalog: boolean;

  constructor(settings: S3Settings, access: S3Access = {}) {
    this.signedByCatalog = !!access.signer;
    this.fromCatalog = !!access.signer || !!access.credentials;
    const credentials = access.signer
      ? noKey
      : access.credentials
        ? uncached(access.credentials)
        : settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, sessionToken: settings.sessionToken }
          : undefined;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region ?? 'us-east-1',
      forcePathStyle: settings.pathStyle,
      credentials,
      ...(access.signer ? { signer: access.signer } : {}),
      maxAttempts: 5,
      // Checksums only where S3 requires them (DeleteObjects): the SDK's default CRC32 of every
      // body sent and received cost the worker about a sixth of its S3 time, which TCP (and TLS)
      // already protect, and some S3-compatible stores refuse the extra headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const renew = access.renew;
    if (renew) {
      // Credentials that expired (or were revoked) despite the renewal ahead of time: renewed, and
      // the request sent once more. Bodies here are byte arrays, so a request can be sent again.
      this.client.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            if (!isExpiredCredentialsError(error)) throw error;
            await renew();
            return next(args);
          }
        },
        { step: 'initialize', name: 'renewExpiredCredentials' },
      );
    }
  }

  async put(uri: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const { bucket, key } = splitS3Uri(uri);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.byteLength }));
  }

  async get(uri: string): Promise<Uint8Array> {
    const { bucket, key } = splitS3Uri(uri);
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body!.transformToByteArray();
  }

  async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const { bucket, key } = splitS3Uri(uri);
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
    return out.Body!.transformToByteArray();
  }

  async exists(uri: string): Promise<boolean> {
    const { bucket, key } = splitS3Uri(uri);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async delete(uris: string[]): Promise<void> {
    if (this.signedByCatalog) {
      // One DELETE per object (a signer allows what is under the table, not the bucket's ?delete).
      const queue = [...uris];
      const worker = async () => {
        for (let uri = queue.shift(); uri !== undefined; uri = queue.shift()) {
          const { bucket, key } = splitS3Uri(uri);
          await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        }
      };
      await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
      return;
    }
    const byBucket = new Map<string, string[]>();
    for (const uri of uris) {
      const { bucket, key } = splitS3Uri(uri);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), key]);
    }
    for (const [bucket, keys] of byBucket) {
      for (let i = 0; i < keys.length; i += 1000) {
        const out = await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
        if (out.Errors?.length)
          throw new SyncError(
            `could not delete ${out.Errors.length} objects, first: ${out.Errors[0]!.Key}: ${out.Errors[0]!.Message}`,
            out.Errors[0]!.Code === 'AccessDenied' ? { code: ERROR_CODES.S3_ACCESS_DENIED, retryable: false } : { code: ERROR_CODES.S3_ERROR, retryable: true },
          );
      }
    }
  }

  async *list(prefix: string): AsyncIterable<{ uri: string; size: number; lastModified?: Date }> {
    const { bucket, key } = splitS3Uri(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token })).catch((error) => {
        throw this.listingRefused(error, prefix);
      });
      for (const o of page.Contents ?? []) yield { uri: `s3://${bucket}/${o.Key}`, size: o.Size ?? 0, lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async abortUnfinished(prefix: string): Promise<number> {
    const { bucket, key } = splitS3Uri(prefix);
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })).catch((error) => {
        throw this.listingRefused(error, prefix, 'a listing of unfinished uploads');
      });
      for (const u of page.Uploads ?? []) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
        aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  private listingRefused(error: unknown, prefix: string, what = 'a listing'): unknown {
    if (error instanceof SignerRefusedError) {
      return Object.assign(new ListingNotAllowedError(`The catalog signs requests for this table's files but not ${what} of ${prefix}: ${error.message}`), { cause: error });
    }
    // Credentials a catalog scopes to a table's objects (Nessie's STS session policy) need not
    // allow listing the bucket's multipart uploads.
    if (this.fromCatalog && what !== 'a listing' && (error as Error).name === 'AccessDenied') {
      return Object.assign(new ListingNotAllowedError(`The storage access the catalog gives for this table does not allow ${what} under ${prefix} (AccessDenied)`), {
        cause: error,
      });
    }
    return error;
  }

  openWrite(uri: string, contentType = 'application/octet-stream'): ObjectWriter {
    const { bucket, key } = splitS3Uri(uri);
    const client = this.client;
    // Chunks are copied into one part buffer as they come, so a part is in memory once (not as
    // chunks and again as their concatenation); untouched pages of it are never resident.
    let part: Buffer | undefined;
    let filled = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const sendPart = async () => {
      const body = part!.subarray(0, filled);
      part = undefined;
      filled = 0;
      uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }))).UploadId!;
      const PartNumber = parts.length + 1;
      const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body, ContentLength: body.length }));
      parts.push({ ETag: out.ETag!, PartNumber });
    };
    return {
      write: async (chunk) => {
        total += chunk.byteLength;
        for (let at = 0; at < chunk.byteLength; ) {
          part ??= Buffer.allocUnsafeSlow(PART_BYTES);
          const n = Math.min(chunk.byteLength - at, PART_BYTES - filled);
          part.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === PART_BYTES) await sendPart();
        }
      },
      complete: async () => {
        if (!uploadId) {
          // Small object: one plain PUT.
          await this.put(uri, part ? part.subarray(0, filled) : Buffer.alloc(0), contentType);
          return total;
        }
        if (filled > 0) await sendPart();
        await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        return total;
      },
      abort: async () => {
        part = undefined;
        if (uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      },
    };
  }

  destroy(): void {
    this.client.destroy();
  }
}
