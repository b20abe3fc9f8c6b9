/** Jest runs every test in TypeScript through ts-jest; unit, integration and e2e live under tests/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testTimeout: 60000,
  // Integration tests start TLS servers; two workers match the CI machine's two cores.
  maxWorkers: 2,
  setupFiles: ['<rootDir>/tests/support/jest.setup.ts'],
};
