// Literal inputs shared by the provisioning tests.

/** Placeholder values the manifest templates need (no .env in a test). */
export const TEMPLATE_VARIABLES: Readonly<Record<string, string>> = {
  CONTAINER_REGISTRY_SERVER: 'sandbox.azurecr.io',
  CONTAINER_REGISTRY_USERNAME: 'sandbox',
  CONTAINER_REGISTRY_PASSWORD: 'not-a-secret',
  LOG_LEVEL: 'info',
  APPLICATIONINSIGHTS_CONNECTION_STRING: '',
  AZURE_MONITOR_LIVE_METRICS: 'false',
  GATEWAY_PORT_RANGE_START: '40000',
  GATEWAY_PORT_RANGE_END: '40099',
};
