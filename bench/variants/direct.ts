import type { VariantDefinition } from './types';

/** The client talks to the target itself: the physical limit of this machine. */
export const directVariant: VariantDefinition = {
  name: 'direct',
  entries: [],
  description: 'client → TCP target, no tunnel',
  async start(context) {
    return {
      name: 'direct',
      entryPort: context.target.port,
      processes: [],
      listeners: 0,
      stop: async () => undefined,
    };
  },
};
