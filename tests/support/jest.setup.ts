// Keep test logs quiet unless a developer asks for them.
process.env.LOG_LEVEL ??= 'silent';
