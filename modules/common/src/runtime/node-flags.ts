/**
 * Node flags every relay module process starts with: the images' `CMD` and every launcher of ours (bench, demos)
 * use this one list, so what is measured is what ships.
 *
 * Why `--initial-old-space-size=64`: our module processes hold ~13 MB of live heap after start-up, which puts
 * them in a band where V8's heap-growing heuristics set the old-generation limit only 16–20 MB above the live
 * heap after a full GC during bulk transfer; in-flight buffers promoted from the young generation then restart
 * incremental marking as soon as each full GC ends (124 mark-compacts per GiB against 2 for a bare ws tunnel,
 * doubling CPU per byte). Starting with a larger old space keeps the first full GC away and the limits sane.
 * The evidence is in docs/benchmarks.md. Node refuses this flag in NODE_OPTIONS, so it must be on the command line.
 */
export const MODULE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
