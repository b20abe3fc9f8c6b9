/**
 * Static checks of the module Dockerfiles (no Docker engine runs here): parsed with dockerfile-ast,
 * they must be multi-stage, pin the Node 24 LTS bookworm-slim base for their platform, copy only paths
 * that exist and survive .dockerignore, ship production dependencies only, run as `node`, probe the
 * health endpoint, and start the compiled entry (with the inspector open in .debug variants).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Copy, DockerfileParser, From, Instruction } from 'dockerfile-ast';
import { MODULE_NODE_FLAGS } from '../../modules/common/src/runtime/node-flags';

const ROOT = path.resolve(__dirname, '../..');
const MODULES: Record<string, { healthPort: number }> = {
  'relay-forwarder': { healthPort: 8081 },
  'relay-gateway': { healthPort: 8080 },
  'fleet-controller': { healthPort: 8082 },
};
/** Images and the dev container run the Node LTS line the project targets (Node 20 reached end of life 2026-04-30). */
const NODE_MAJOR = 24;
const BASE_IMAGES: Record<string, string> = {
  amd64: `node:${NODE_MAJOR}-bookworm-slim`,
  arm64v8: `arm64v8/node:${NODE_MAJOR}-bookworm-slim`,
};
const PLATFORM_FLAGS: Record<string, string[]> = {
  amd64: ['linux/amd64'],
  arm64v8: ['linux/arm64', 'linux/arm64/v8'],
};

interface Stage {
  readonly from: From;
  readonly name: string | null;
  readonly instructions: Instruction[];
}

function stagesOf(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  return froms.map((from, i) => {
    const start = from.getRange().start.line;
    const end = froms[i + 1]?.getRange().start.line ?? Number.MAX_SAFE_INTEGER;
    const instructions = dockerfile.getInstructions().filter((ins) => {
      const line = ins.getRange().start.line;
      return line > start && line < end;
    });
    return { from, name: from.getBuildStage(), instructions };
  });
}

const keyword = (stage: Stage, name: string) => stage.instructions.filter((i) => i.getKeyword() === name);
const args = (ins: Instruction) => ins.getArguments().map((a) => a.getValue());
const runText = (stage: Stage) => keyword(stage, 'RUN').map((r) => args(r).join(' '));
const workdir = (stage: Stage) => args(keyword(stage, 'WORKDIR').at(-1) as Instruction)[0] as string;

/** Exec-form JSON array of a CMD or HEALTHCHECK CMD, as written. */
function execForm(ins: Instruction): string[] {
  const values = args(ins);
  const start = ins.getKeyword() === 'HEALTHCHECK' ? values.indexOf('CMD') + 1 : 0;
  return JSON.parse(values.slice(start).join(' ')) as string[];
}

/**
 * .dockerignore semantics (moby patternmatcher): patterns are path globs (`*`, `?`, `**`), a
 * pattern also matches everything under a matching directory, `!` re-includes, the last match wins.
 */
function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const exclude = !raw.startsWith('!');
    const glob = path.posix.normalize((exclude ? raw : raw.slice(1)).trim()).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}(/.*)?$`,
    );
    if (regex.test(file)) ignored = exclude;
  }
  return ignored;
}

const ignorePatterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Every file under a repository path (itself when it is a file). */
function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!existsSync(abs)) return [];
  if (!readdirSync(path.dirname(abs)).includes(path.basename(abs))) return [];
  try {
    return readdirSync(abs, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  } catch {
    return [rel];
  }
}

describe('.dockerignore matcher', () => {
  it('follows Docker semantics', () => {
    const p = ['*', '!package.json', '!modules', 'modules/**/node_modules'];
    expect(dockerIgnored(p, 'README.md')).toBe(true);
    expect(dockerIgnored(p, 'sandbox/src/a.ts')).toBe(true);
    expect(dockerIgnored(p, 'package.json')).toBe(false);
    expect(dockerIgnored(p, 'modules/common/src/a.ts')).toBe(false);
    expect(dockerIgnored(p, 'modules/x/node_modules/y/index.js')).toBe(true);
  });
});

describe.each(Object.entries(MODULES))('%s', (name, { healthPort }) => {
  const folder = path.join(ROOT, 'modules', name);
  const moduleJson = JSON.parse(readFileSync(path.join(folder, 'module.json'), 'utf8'));
  const platforms = moduleJson.image.tag.platforms as Record<string, string>;
  const context = path.relative(ROOT, path.resolve(folder, moduleJson.image.contextPath));

  it('module.json builds from the repository root and lists every Dockerfile of the folder', () => {
    expect(context).toBe('');
    expect(moduleJson.image.repository).toBe(`\${CONTAINER_REGISTRY_SERVER}/${name}`);
    expect(Object.keys(platforms).sort()).toEqual(['amd64', 'amd64.debug', 'arm64v8', 'arm64v8.debug']);
    const referenced = Object.values(platforms).map((f) => path.basename(f));
    expect(
      readdirSync(folder)
        .filter((f) => f.startsWith('Dockerfile'))
        .sort(),
    ).toEqual([...referenced].sort());
  });

  it('has its compiled entry point source', () => {
    expect(existsSync(path.join(folder, 'src/main.ts'))).toBe(true);
  });

  describe.each(Object.entries(platforms))('%s → %s', (platformKey, dockerfile) => {
    const arch = platformKey.replace(/\.debug$/, '');
    const debug = platformKey.endsWith('.debug');
    const stages = stagesOf(readFileSync(path.join(folder, dockerfile), 'utf8'));
    const final = stages.at(-1) as Stage;
    const stageNamed = (n: string) => stages.find((s) => s.name === n);

    it('is multi-stage: build, deps, then an unnamed runtime stage', () => {
      expect(stages.map((s) => s.name)).toEqual(['build', 'deps', null]);
    });

    it(`pins every stage to the Node ${NODE_MAJOR} bookworm-slim image for ${arch}`, () => {
      for (const stage of stages) {
        const image = stage.from.getImage() as string;
        const platform = stage.from.getPlatformFlag()?.getValue();
        const pinned =
          image === BASE_IMAGES[arch] ||
          (image === BASE_IMAGES.amd64 && PLATFORM_FLAGS[arch]?.includes(platform ?? ''));
        expect({ image, platform, pinned }).toEqual({ image, platform, pinned: true });
      }
    });

    it('copies only files that exist in the build context and survive .dockerignore', () => {
      for (const stage of stages) {
        for (const copy of keyword(stage, 'COPY') as Copy[]) {
          if (copy.getFromFlag()) continue;
          for (const source of args(copy).slice(0, -1)) {
            const rel = path.posix.join(context, source).replace(/\/$/, '');
            const files = filesUnder(rel);
            expect({ source, exists: files.length > 0 }).toEqual({ source, exists: true });
            const kept = files.filter((f) => !dockerIgnored(ignorePatterns, f));
            expect({ source, kept: kept.length > 0 }).toEqual({ source, kept: true });
          }
        }
      }
    });

    it('compiles in the build stage with the locked toolchain', () => {
      const build = stageNamed('build') as Stage;
      expect(runText(build).join('\n')).toMatch(/npm ci\b/);
      expect(runText(build).join('\n')).toContain('npm run build');
    });

    it("installs only this module's production dependencies, pinned by the root lockfile", () => {
      const deps = stageNamed('deps') as Stage;
      const copied = (keyword(deps, 'COPY') as Copy[]).flatMap((c) => args(c).slice(0, -1));
      expect(copied).toEqual(expect.arrayContaining(['package-lock.json', `modules/${name}/package.json`]));
      expect(copied).not.toContain('package.json');
      expect(runText(deps).join('\n')).toMatch(/npm (install|ci) --omit=dev/);
    });

    it('ships compiled output from the build stage and node_modules only from the deps stage', () => {
      const copies = (keyword(final, 'COPY') as Copy[]).map((c) => ({
        from: c.getFromFlag()?.getValue(),
        src: args(c)[0] as string,
        dest: args(c)[1] as string,
      }));
      expect(copies.every((c) => c.from === 'build' || c.from === 'deps')).toBe(true);
      const buildDir = workdir(stageNamed('build') as Stage);
      for (const c of copies.filter((c) => c.from === 'build')) {
        expect(c.src.startsWith(`${buildDir}/`)).toBe(true);
        const rel = c.src.slice(buildDir.length + 1).replace(/\/$/, '');
        // dist/modules/<m>/ is compiled from modules/<m>/src, dist/cloud/ from cloud/; sources are copied as they are.
        const origin = rel.startsWith('dist/modules/')
          ? `${rel.replace(/^dist\//, '')}/src`
          : rel.replace(/^dist\//, '');
        expect({ src: c.src, exists: existsSync(path.join(ROOT, origin)) }).toEqual({
          src: c.src,
          exists: true,
        });
        expect(c.src.includes('node_modules')).toBe(false);
      }
      expect(copies.map((c) => c.src)).toEqual(
        expect.arrayContaining([`${buildDir}/dist/modules/common/`, `${buildDir}/dist/modules/${name}/`]),
      );
      expect(copies.filter((c) => c.from === 'deps').map((c) => c.src)).toEqual([
        `${workdir(stageNamed('deps') as Stage)}/`,
      ]);
    });

    it('runs as the non-root node user', () => {
      const users = keyword(final, 'USER').map((u) => args(u)[0]);
      expect(users.at(-1)).toBe('node');
      const lastUserLine = keyword(final, 'USER').at(-1)?.getRange().start.line ?? Infinity;
      expect(
        final.instructions.filter(
          (i) => ['RUN', 'COPY', 'ADD'].includes(i.getKeyword()) && i.getRange().start.line > lastUserLine,
        ),
      ).toEqual([]);
    });

    it(`probes /healthz on the health port (${healthPort})`, () => {
      const healthchecks = keyword(final, 'HEALTHCHECK');
      expect(healthchecks).toHaveLength(1);
      const probe = execForm(healthchecks[0] as Instruction);
      expect(probe.slice(0, 2)).toEqual(['node', '-e']);
      expect(probe[2]).toContain("path:'/healthz'");
      expect(probe[2]).toContain('port:process.env.HEALTH_PORT');
      expect(keyword(final, 'ENV').flatMap(args)).toContain(`HEALTH_PORT=${healthPort}`);
      expect(keyword(final, 'EXPOSE').flatMap(args)).toContain(String(healthPort));
    });

    it(
      debug
        ? 'starts the compiled entry with the module node flags and the inspector on 0.0.0.0:9229'
        : 'starts the compiled entry with the module node flags, inspector closed',
      () => {
        const cmds = keyword(final, 'CMD');
        expect(cmds).toHaveLength(1);
        const cmd = execForm(cmds[0] as Instruction);
        const entry = `dist/modules/${name}/src/main.js`;
        // The same flags the bench and the demos start the modules with: what is measured is what ships.
        const flags = [...MODULE_NODE_FLAGS, ...(debug ? ['--inspect=0.0.0.0:9229'] : [])];
        expect(cmd).toEqual(['node', ...flags, entry]);
        expect(workdir(final)).toBe(workdir(stageNamed('deps') as Stage));
        expect(keyword(final, 'EXPOSE').flatMap(args).includes('9229')).toBe(debug);
        expect(keyword(final, 'ENTRYPOINT')).toEqual([]);
      },
    );
  });
});

describe('dev container', () => {
  const dir = path.join(ROOT, '.devcontainer');
  const config = JSON.parse(readFileSync(path.join(dir, 'devcontainer.json'), 'utf8'));

  it(`builds from its Dockerfile on a Node ${NODE_MAJOR} image and works as a non-root user`, () => {
    expect(config.build.dockerfile).toBe('Dockerfile');
    const stages = stagesOf(readFileSync(path.join(dir, config.build.dockerfile), 'utf8'));
    expect(stages.at(-1)?.from.getImage()).toMatch(
      new RegExp(`(^node:${NODE_MAJOR}-|typescript-node:\\d+-${NODE_MAJOR}-)`),
    );
    expect(config.remoteUser).toBe('node');
  });

  it('has Docker-in-Docker for module images and the IoT Edge and ESLint extensions', () => {
    expect(Object.keys(config.features)).toEqual(
      expect.arrayContaining(['ghcr.io/devcontainers/features/docker-in-docker:2']),
    );
    expect(config.customizations.vscode.extensions).toEqual(
      expect.arrayContaining(['vsciot-vscode.azure-iot-edge', 'dbaeumer.vscode-eslint']),
    );
  });
});
