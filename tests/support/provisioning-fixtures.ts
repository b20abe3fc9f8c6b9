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
  GATEWAY_POOL_NAME: 'default',
  GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
  GATEWAY_PUBLIC_HOST: '',
  CONTROLLER_MODULE_STATUS: 'running',
  CONTROLLER_IOTHUB_CONNECTION_STRING: '',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
  RELAY_RESOURCE_GROUP: 'rg',
  RELAY_NAMESPACE: 'relay',
  CONTROLLER_CLIENT_ID: '',
};
