import { isJsonObject } from '../iothub/json';
import { attestSymmetricKey, type AttestedDevice } from './attestation';
import type { EnrollmentGroups } from './enrollments';
import { DpsError } from './errors';
import type { HubLink } from './hub-link';
import { isValidDpsId } from './keys';
import type { Operation, OperationStatus, OperationTable } from './operations';
import type { RegistrationRecord, Registrations } from './registrations';
import type { DpsLogger } from './logger';

/** A register or operation-status request from a device, whatever the transport. */
export interface DeviceRequest {
  readonly idScope: string;
  readonly registrationId: string;
  /** The SAS token (HTTP `Authorization`, or the MQTT CONNECT password). */
  readonly token: string | undefined;
}

/** The device API's `RegistrationOperationStatus` answer and the status code that carries it. */
export interface OperationReply {
  readonly status: 200 | 202;
  readonly body: {
    operationId: string;
    status: OperationStatus;
    registrationState?: Record<string, unknown>;
  };
  /** Seconds the device should wait before polling (sent as `retry-after`) while `assigning`. */
  readonly retryAfterSeconds?: number;
}

/** What the service needs around it. */
export interface RegistrationServiceDeps {
  readonly idScope: string;
  readonly groups: EnrollmentGroups;
  readonly registrations: Registrations;
  readonly operations: OperationTable;
  readonly hub: HubLink;
  readonly retryAfterSeconds: number;
  readonly log: DpsLogger;
}

/**
 * Device registration, shared by the MQTT and HTTPS fronts. A register request is authenticated, answered at
 * once with `202 assigning` and an operation id, and the assignment (device created in the linked hub, initial
 * twin applied) runs in the background; polls answer `assigning` until it is done, then the final state.
 * Attempts for one registration ID run one after another.
 */
export class RegistrationService {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: RegistrationServiceDeps) {}

  /** `PUT …/register`: starts an operation. Throws DpsError 400/401. */
  register(req: DeviceRequest, body: unknown): OperationReply {
    const device = this.attest(req);
    if (body !== undefined && body !== null) {
      if (!isJsonObject(body)) throw new DpsError('BadRequest', 'the request body must be a JSON object');
      if (
        typeof body.registrationId === 'string' &&
        body.registrationId.toLowerCase() !== req.registrationId.toLowerCase()
      )
        throw new DpsError('BadRequest', 'registrationId in the body does not match the request');
    }
    const op = this.deps.operations.start(req.registrationId);
    this.deps.log.info(
      { registrationId: req.registrationId, group: device.group.enrollmentGroupId },
      'registration started',
    );
    this.enqueue(req.registrationId, () => this.assign(op, device));
    return this.assigning(op);
  }

  /** `GET …/operations/{id}`: the operation's state. Throws DpsError 401/404. */
  operationStatus(req: DeviceRequest, operationId: string): OperationReply {
    this.attest(req);
    const op = this.deps.operations.find(operationId, req.registrationId);
    if (!op) throw new DpsError('NotFound', `operation '${operationId}' not found`);
    if (op.status === 'assigning' || !op.result) return this.assigning(op);
    return {
      status: 200,
      body: {
        operationId: op.operationId,
        status: op.status,
        registrationState: registrationStateView(op.result),
      },
    };
  }

  /** Resolves when no assignment is running (stop waits for this). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private attest(req: DeviceRequest): AttestedDevice {
    if (!isValidDpsId(req.registrationId))
      throw new DpsError('BadRequest', `registration ID '${req.registrationId}' is not valid`);
    // An unknown ID scope cannot carry a valid token either; like other token failures it is a plain 401.
    if (req.idScope.toLowerCase() !== this.deps.idScope.toLowerCase())
      throw new DpsError('Unauthorized', 'Unauthorized');
    return attestSymmetricKey({
      idScope: this.deps.idScope,
      registrationId: req.registrationId,
      token: req.token,
      groups: this.deps.groups.list(),
    });
  }

  private assigning(op: Operation): OperationReply {
    return {
      status: 202,
      body: { operationId: op.operationId, status: 'assigning' },
      retryAfterSeconds: this.deps.retryAfterSeconds,
    };
  }

  private enqueue(registrationId: string, work: () => Promise<void>): void {
    const key = registrationId.toLowerCase();
    const next = (this.chains.get(key) ?? Promise.resolve()).then(work, work);
    const tracked = next.finally(() => {
      this.inFlight.delete(tracked);
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    this.chains.set(key, next);
    this.inFlight.add(tracked);
  }

  private async assign(op: Operation, device: AttestedDevice): Promise<void> {
    const { group, registrationId } = device;
    const base = { registrationId, enrollmentGroupId: group.enrollmentGroupId };
    let record: RegistrationRecord;
    if (group.provisioningStatus === 'disabled') {
      // The documented statuses include `disabled`: the operation ends there and no device is created.
      record = this.deps.registrations.record({
        ...base,
        status: 'disabled',
        errorMessage: 'The enrollment is disabled.',
      });
    } else {
      try {
        const done = await this.deps.hub.assign(registrationId, device.deviceKeys, group);
        record = this.deps.registrations.record({ ...base, status: 'assigned', ...done });
      } catch (err) {
        this.deps.log.error(
          { registrationId, err: (err as Error).message },
          'assignment to the IoT hub failed',
        );
        record = this.deps.registrations.record({
          ...base,
          status: 'failed',
          errorCode: 500000,
          errorMessage: `Assignment to the IoT hub failed: ${(err as Error).message}`,
        });
      }
    }
    this.deps.operations.finish(op, record);
    this.deps.log.info(
      { registrationId, status: record.status, hub: record.assignedHub },
      'registration finished',
    );
  }
}

/** A registration state as the APIs show it (the group id is internal). */
export function registrationStateView(r: RegistrationRecord): Record<string, unknown> {
  const { enrollmentGroupId: _group, ...view } = r;
  return view;
}
