/** Catalog answers as typed errors; each says what happened in words a person can act on. */
export class CatalogError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 404: no such namespace or table. */
export class NotFoundError extends CatalogError {}
/** 409 on create: the namespace or table exists. */
export class AlreadyExistsError extends CatalogError {}
/** 409 on commit: a requirement failed (someone else committed first). Retry on the new state. */
export class CommitConflictError extends CatalogError {}
/** 401: missing or invalid credentials for the catalog. */
export class UnauthorizedError extends CatalogError {}
/** 403: authenticated but not allowed. */
export class ForbiddenError extends CatalogError {}
/** 400/406/422: the catalog refused the request as invalid. */
export class BadRequestError extends CatalogError {}
/**
 * A commit whose outcome is unknown: 5xx or timeout after the request was sent. The commit may
 * have landed; reload the table and look before trying again.
 */
export class CommitStateUnknownError extends CatalogError {}
/** 5xx or network failure outside a commit: safe to retry. */
export class CatalogUnavailableError extends CatalogError {}
/** The table cannot take the requested schema change. Nothing was changed. */
export class IncompatibleSchemaError extends CatalogError {}
