import { spawn } from 'node:child_process';

/** How a `node -e` child ended, with everything it printed. */
export interface NodeScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` with `node -e` in a child whose environment is only PATH plus `env` (so e.g. NODE_EXTRA_CA_CERTS
 * is the one trust setting it gets), and collects its output; the child is killed after 30 s so a test cannot hang.
 */
export function runNodeScript(script: string, env: Record<string, string>): Promise<NodeScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
