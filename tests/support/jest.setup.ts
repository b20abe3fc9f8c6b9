// Keep test logs quiet unless a developer asks for them.
process.env.LOG_LEVEL ??= 'silent';
// Module processes spawned by tests serve /healthz on any free port, never a fixed 8080/8081 two workers would share.
process.env.HEALTH_PORT ??= '0';
