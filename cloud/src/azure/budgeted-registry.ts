import type { Registry } from 'azure-iothub';
import type { HubBudget } from './hub-budget';
import type { HubCallKind } from './hub-throttles';

// The Registry methods the project calls, by the throttle IoT Hub counts them against. Methods not listed pass
// through unbudgeted (none is called today); a new caller adds its method here.
const KIND_OF: Readonly<Record<string, HubCallKind>> = {
  getTwin: 'twinRead',
  getModuleTwin: 'twinRead',
  updateTwin: 'twinUpdate',
  updateModuleTwin: 'twinUpdate',
  replaceTwin: 'twinUpdate',
  create: 'registry',
  get: 'registry',
  update: 'registry',
  delete: 'registry',
  list: 'registry',
  addModule: 'registry',
  getModule: 'registry',
  getModulesOnDevice: 'registry',
  updateModule: 'registry',
  removeModule: 'registry',
  addConfiguration: 'configuration',
  getConfiguration: 'configuration',
  getConfigurations: 'configuration',
  updateConfiguration: 'configuration',
  removeConfiguration: 'configuration',
};

/**
 * The same azure-iothub Registry with every call (and every query page) taken from `budget` first and retried on
 * 429. The policy wraps the transport: the controller, its lease and the provisioning CLI all go through it
 * unchanged. Only the promise forms are budgeted; a callback call is refused rather than silently unbudgeted.
 */
export function budgetedRegistry(registry: Registry, budget: HubBudget): Registry {
  return new Proxy(registry, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'createQuery') {
        return (...args: unknown[]) => budgetedQuery(fn.apply(target, args) as QueryLike, budget);
      }
      const kind = KIND_OF[prop];
      if (!kind) return fn.bind(target);
      return (...args: unknown[]) => {
        if (typeof args[args.length - 1] === 'function')
          throw new Error(`budgeted Registry.${prop}: use the promise form (no callback)`);
        return budget.run(kind, () => fn.apply(target, args) as Promise<unknown>);
      };
    },
  });
}

interface QueryLike {
  next(...args: unknown[]): Promise<unknown> | void;
}

type PageCallback = (err: Error | null, result?: unknown, response?: unknown) => void;

// Each page is one query against the hub's query throttle. nextAsTwin pages through next() with a callback, so
// the callback form is budgeted here too.
function budgetedQuery(query: QueryLike, budget: HubBudget): QueryLike {
  const next = query.next.bind(query) as (...args: unknown[]) => Promise<unknown> | void;
  query.next = (...args: unknown[]) => {
    const done = args[args.length - 1];
    if (typeof done !== 'function') return budget.run('query', () => next(...args) as Promise<unknown>);
    const head = args.slice(0, -1);
    budget
      .run(
        'query',
        () =>
          new Promise<[unknown, unknown]>((resolve, reject) => {
            next(...head, (err: Error | null, result?: unknown, response?: unknown) =>
              err ? reject(err) : resolve([result, response]),
            );
          }),
      )
      .then(
        ([result, response]) => (done as PageCallback)(null, result, response),
        (err: Error) => (done as PageCallback)(err),
      );
  };
  return query;
}
