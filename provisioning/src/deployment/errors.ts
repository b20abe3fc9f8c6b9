/** Stable codes for everything that can stop a deployment manifest from being generated. */
export type DeploymentErrorCode =
  | 'DEPLOYMENT_MISSING_VARIABLE'
  | 'DEPLOYMENT_BAD_PLACEHOLDER'
  | 'DEPLOYMENT_UNKNOWN_MODULE'
  | 'DEPLOYMENT_UNKNOWN_PLATFORM'
  | 'DEPLOYMENT_BAD_MODULE_JSON'
  | 'DEPLOYMENT_BAD_TEMPLATE'
  | 'DEPLOYMENT_BAD_ENV_FILE'
  | 'DEPLOYMENT_CREATE_OPTIONS_TOO_LONG'
  | 'DEPLOYMENT_INVALID_MANIFEST';

/** One problem found in a manifest or template, located by a JSON pointer into the document. */
export interface ManifestProblem {
  /** JSON pointer (RFC 6901) to the offending value, "" for the document itself. */
  readonly path: string;
  readonly message: string;
}

/**
 * Why generation failed. Never retryable: every cause is in the inputs (template, module.json,
 * variables), so running again without a change gives the same answer.
 */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
  readonly retryable = false;

  constructor(
    readonly code: DeploymentErrorCode,
    message: string,
    /** Every problem found, each with its path; empty when the message says it all. */
    readonly problems: readonly ManifestProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a DeploymentError, optionally with the given code. */
export function isDeploymentError(err: unknown, code?: DeploymentErrorCode): err is DeploymentError {
  return err instanceof DeploymentError && (code === undefined || err.code === code);
}

/** Escapes one JSON pointer segment (RFC 6901: "~" → "~0", "/" → "~1"). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Joins a parent JSON pointer and a key. */
export function childPointer(parent: string, key: string | number): string {
  return `${parent}/${pointerSegment(key)}`;
}

/** Renders problems one per line, "path: message", for error messages and the CLI. */
export function formatProblems(problems: readonly ManifestProblem[]): string {
  return problems.map((p) => `  ${p.path === '' ? '(document)' : p.path}: ${p.message}`).join('\n');
}
