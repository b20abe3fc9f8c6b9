import { ListenerRegistry } from '../../../../sandbox/src/relay/listener-registry';

const listener = (id: string, isOpen = true) => ({ id, isOpen });

describe('ListenerRegistry', () => {
  it('refuses listeners beyond the limit per path (case-insensitive) and frees slots on removal', () => {
    const registry = new ListenerRegistry<ReturnType<typeof listener>>(2);
    const [a, b, c] = [listener('a'), listener('b'), listener('c')];
    expect(registry.add('HC', a)).toBe(true);
    expect(registry.add('hc', b)).toBe(true);
    expect(registry.isFull('hc')).toBe(true);
    expect(registry.add('hc', c)).toBe(false);
    expect(registry.add('other', c)).toBe(true);
    registry.remove('Hc', a);
    expect(registry.add('hc', c)).toBe(true);
    expect(registry.countsByPath()).toEqual({ hc: 2, other: 1 });
  });

  it('picks uniformly among open listeners using the injected random source', () => {
    let next = 0;
    const registry = new ListenerRegistry<ReturnType<typeof listener>>(25, () => next);
    const all = [listener('a'), listener('closed', false), listener('b'), listener('c')];
    for (const l of all) registry.add('hc', l);
    next = 0;
    expect(registry.pick('hc')?.id).toBe('a');
    next = 0.5;
    expect(registry.pick('hc')?.id).toBe('b');
    next = 0.9999;
    expect(registry.pick('hc')?.id).toBe('c');
    expect(registry.pick('nobody')).toBeUndefined();
  });

  it('lists per path or everything', () => {
    const registry = new ListenerRegistry<ReturnType<typeof listener>>();
    registry.add('x', listener('1'));
    registry.add('y', listener('2'));
    expect(registry.list('X').map((l) => l.id)).toEqual(['1']);
    expect(
      registry
        .list()
        .map((l) => l.id)
        .sort(),
    ).toEqual(['1', '2']);
  });
});
