import { buildAgentReport } from '../../../../sandbox/src/edge-agent/agent-report';
import { parseAgentDesired, type ModuleSpec } from '../../../../sandbox/src/edge-agent/deployment-spec';

const parsed = parseAgentDesired({
  schemaVersion: '1.1',
  modules: {
    'relay-forwarder': {
      version: '1.0',
      restartPolicy: 'always',
      settings: { image: 'reg/relay-forwarder:0.1.0-amd64' },
      env: { A: { value: 'secret-free' } },
    },
  },
});
const spec = (parsed.ok ? parsed.modules.get('relay-forwarder') : undefined) as ModuleSpec;

describe('buildAgentReport', () => {
  it('reports what IoT Edge tooling reads: desired version and status, module runtime status and counters', () => {
    const report = buildAgentReport({
      startedAtIso: '2026-01-01T00:00:00.000Z',
      desired: { version: 7, code: 200, description: '' },
      modules: [
        {
          name: 'relay-forwarder',
          spec,
          runtimeStatus: 'running',
          pid: 1234,
          restartCount: 2,
          exitCode: 1,
          lastStartTimeUtc: '2026-01-01T00:01:00.000Z',
        },
      ],
    });
    expect(report).toMatchObject({
      schemaVersion: '1.1',
      lastDesiredVersion: 7,
      lastDesiredStatus: { code: 200, description: '' },
      systemModules: {
        edgeAgent: { runtimeStatus: 'running', lastStartTimeUtc: '2026-01-01T00:00:00.000Z' },
      },
      modules: {
        'relay-forwarder': {
          status: 'running',
          restartPolicy: 'always',
          version: '1.0',
          settings: { image: 'reg/relay-forwarder:0.1.0-amd64' },
          runtimeStatus: 'running',
          restartCount: 2,
          exitCode: 1,
          lastStartTimeUtc: '2026-01-01T00:01:00.000Z',
        },
      },
    });
    // No pid or environment leaves the device.
    expect(JSON.stringify(report)).not.toMatch(/1234|secret-free/);
  });

  it('leaves the desired fields out before a document was handled', () => {
    const report = buildAgentReport({ startedAtIso: 't', desired: undefined, modules: [] });
    expect(report).not.toHaveProperty('lastDesiredVersion');
    expect(report.modules).toEqual({});
  });
});
