import { ERROR_CODES, SyncError, type ErrorCode } from '../errors';

/** Catalog answers as typed errors; each says what happened in words a person can act on. */
export class CatalogError extends SyncError {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorType?: string,
    kind: { code: ErrorCode; retryable: boolean } = { code: ERROR_CODES.CATALOG_UNAVAILABLE, retryable: true },
  ) {
    super(message, kind);
    this.name = new.target.name;
  }
}

/**
 * 404: no such namespace or table. After prepare the namespace and table exist: a 404 then (a
 * wrong warehouse, a table dropped meanwhile) does not go away by asking again.
 */
export class NotFoundError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_NOT_FOUND, retryable: false });
  }

  override get failureMessage(): string {
    return `The catalog does not know what the sync needs: ${this.message}`;
  }
}
/** 409 on create: the namespace or table exists. (Callers expect it; one they do not is retried, as any conflict.) */
export class AlreadyExistsError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_ALREADY_EXISTS, retryable: true });
  }
}
/** 409 on commit: a requirement failed (someone else committed first). Retry on the new state. */
export class CommitConflictError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.COMMIT_CONFLICT, retryable: true });
  }
}
/** 401: missing or invalid credentials for the catalog. */
export class UnauthorizedError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_UNAUTHORIZED, retryable: false });
  }
}
/** 403: authenticated but not allowed. */
export class ForbiddenError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_FORBIDDEN, retryable: false });
  }
}
/** 400/406/422: the catalog refused the request as invalid. */
export class BadRequestError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_REFUSED, retryable: false });
  }

  override get failureMessage(): string {
    return `The catalog refused the request: ${this.message}`;
  }
}
/**
 * A commit whose outcome is unknown: 5xx or timeout after the request was sent. The commit may
 * have landed; reload the table and look before trying again.
 */
export class CommitStateUnknownError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.COMMIT_STATE_UNKNOWN, retryable: true });
  }
}
/** 5xx or network failure outside a commit: safe to retry. */
export class CatalogUnavailableError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.CATALOG_UNAVAILABLE, retryable: true });
  }
}
/** The table cannot take the requested schema change. Nothing was changed. */
export class IncompatibleSchemaError extends CatalogError {
  constructor(message: string, status?: number, errorType?: string) {
    super(message, status, errorType, { code: ERROR_CODES.SCHEMA_INCOMPATIBLE, retryable: false });
  }
}

/**
 * The table moved under a rewrite in a way it cannot be rebuilt on: a file it removes is gone, or
 * a newer delete file applies to a file it rewrote (committing would bring those rows back). The
 * rewrite is planned again from the new snapshot.
 */
export class RewriteConflictError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.COMMIT_CONFLICT, retryable: true });
  }
}
