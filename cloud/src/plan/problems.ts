import type { LocationProblem } from '../model/status';

/** Problems per location id (or device id for devices without one), without repeats. */
export class ProblemBook {
  private readonly byId = new Map<string, LocationProblem[]>();

  /** Adds a problem unless the same code and message are already there. */
  add(id: string, problem: LocationProblem): void {
    const list = this.byId.get(id) ?? [];
    if (!list.some((p) => p.code === problem.code && p.message === problem.message)) list.push(problem);
    this.byId.set(id, list);
  }

  /** Adds every problem of another map. */
  addAll(problems: ReadonlyMap<string, readonly LocationProblem[]>): void {
    for (const [id, list] of problems) for (const p of list) this.add(id, p);
  }

  /** The problems of one id, in the order added. */
  of(id: string): readonly LocationProblem[] {
    return this.byId.get(id) ?? [];
  }
}
