import { newOperationId } from './keys';
import type { RegistrationRecord } from './registrations';

/** `status` of a registration operation, as the device API reports it. */
export type OperationStatus = 'assigning' | 'assigned' | 'failed' | 'disabled';

/** A registration operation: created by a register request, polled until it leaves `assigning`. */
export interface Operation {
  readonly operationId: string;
  readonly registrationId: string;
  readonly createdAtMs: number;
  status: OperationStatus;
  result?: RegistrationRecord;
}

/** How long a finished operation can still be polled. */
export const OPERATION_RETENTION_MS = 10 * 60 * 1000;

/**
 * Registration operations in memory. They are transient (a device that restarts registers again), so they
 * are not persisted; old ones are pruned whenever a new one starts, which needs no timer.
 */
export class OperationTable {
  private readonly ops = new Map<string, Operation>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Starts a new operation in `assigning`. */
  start(registrationId: string): Operation {
    this.prune();
    const op: Operation = {
      operationId: newOperationId(),
      registrationId,
      createdAtMs: this.nowMs(),
      status: 'assigning',
    };
    this.ops.set(op.operationId, op);
    return op;
  }

  /** The operation with this id when it belongs to `registrationId` (ids compared without case). */
  find(operationId: string, registrationId: string): Operation | undefined {
    const op = this.ops.get(operationId);
    return op && op.registrationId.toLowerCase() === registrationId.toLowerCase() ? op : undefined;
  }

  /** Marks an operation finished with the registration state it produced. */
  finish(op: Operation, result: RegistrationRecord): void {
    op.status = result.status;
    op.result = result;
  }

  /** Number of operations held. */
  get size(): number {
    return this.ops.size;
  }

  private prune(): void {
    const oldest = this.nowMs() - OPERATION_RETENTION_MS;
    for (const [id, op] of this.ops) if (op.createdAtMs < oldest) this.ops.delete(id);
  }
}
