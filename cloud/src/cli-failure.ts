import { CliError } from '../../modules/common/src/cli/cli-error';
import { ExitCode } from '../../modules/common/src/cli/exit-codes';
import { isControllerError } from './errors';

/**
 * What the controller process prints for a failure of IoT Hub or ARM that reached its top (`--once`): one line
 * naming the service and what to check, 77 for a refused credential, 69 for an unreachable or failing service.
 * Anything else is returned as it is (a bug: exit 70).
 */
export function controllerFailure(err: unknown): unknown {
  if (!isControllerError(err)) return err;
  const refused = err.status === 401 || err.status === 403;
  if (err.code === 'CONTROLLER_HUB_FAILED' || err.code === 'CONTROLLER_TWIN_NOT_FOUND') {
    return refused
      ? new CliError(
          ExitCode.NO_PERM,
          `IoT Hub refused the credential (${err.message})`,
          'check --iothub-connection-string / IOTHUB_CONNECTION_STRING (a policy with registry read/write and service connect)',
        )
      : new CliError(
          ExitCode.UNAVAILABLE,
          `IoT Hub failed (${err.message})`,
          'check the host name in IOTHUB_CONNECTION_STRING, the network and --iothub-ca, then run again',
        );
  }
  if (err.code === 'CONTROLLER_ARM_FAILED' || err.code === 'CONTROLLER_RULE_NOT_FOUND') {
    return refused
      ? new CliError(
          ExitCode.NO_PERM,
          `Azure Resource Manager refused the credential (${err.message})`,
          'give the controller identity Contributor on the Relay namespace, or check AZURE_* / az login',
        )
      : new CliError(
          ExitCode.UNAVAILABLE,
          `Azure Resource Manager failed (${err.message})`,
          'check --subscription, --resource-group, --namespace and --arm-endpoint, then run again',
        );
  }
  return err;
}
