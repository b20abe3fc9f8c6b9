import { resolveRelayCredentials } from '../../../common/src/config/credentials';
import { jsonPointer } from '../../../common/src/config/json-pointer';
import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import type { Unchecked } from '../../../common/src/config/unchecked';
import type { GatewayHybridConnection, HybridConnectionDocument } from './types';

/**
 * Resolves one `hybridConnections` entry to namespace, path and credential (see resolveRelayCredentials for
 * every check), or undefined when the entry is unusable. A namespace or path disagreeing with the connection
 * string is reported and kept, so the token is also checked against it.
 */
export function resolveHybridConnection(
  name: string,
  entry: Unchecked<HybridConnectionDocument>,
  nowMs: number,
  problems: ConfigProblem[],
): GatewayHybridConnection | undefined {
  const before = problems.length;
  const at = (field: string): string => jsonPointer('hybridConnections', name, field);
  const { namespace, path, credential } = resolveRelayCredentials(entry, nowMs, at, problems, { onMismatch: 'keep' });
  if (problems.length > before || !credential || namespace === undefined || path === undefined) return undefined;
  return { name, namespace, path, credential };
}
