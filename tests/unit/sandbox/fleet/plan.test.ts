import {
  CHECK_ADDED_LOCATION,
  DEFAULT_FLEET_LOCATIONS,
  GATEWAY_DEVICE_ID,
  LOCATION_SERVICES,
  locationNameProblem,
} from '../../../../sandbox/src/fleet/plan';

describe('fleet plan', () => {
  it('boots three locations with two services each and adds a fourth under --check', () => {
    expect(DEFAULT_FLEET_LOCATIONS).toEqual(['berlin', 'oslo', 'lyon']);
    expect(LOCATION_SERVICES.map((s) => [s.name, s.kind])).toEqual([
      ['web', 'http'],
      ['echo', 'echo'],
    ]);
    expect(DEFAULT_FLEET_LOCATIONS).not.toContain(CHECK_ADDED_LOCATION);
  });

  it('accepts the names the controller accepts as location ids and refuses the others', () => {
    for (const name of [...DEFAULT_FLEET_LOCATIONS, CHECK_ADDED_LOCATION, 'site-7', 'a', 'x'.repeat(40)])
      expect(locationNameProblem(name)).toBeUndefined();
    for (const name of ['Berlin', '-a', 'a-', 'a_b', '', 'x'.repeat(41), 'a b'])
      expect(locationNameProblem(name)).toMatch(/lower-case letters, digits or inner hyphens/);
    expect(locationNameProblem(GATEWAY_DEVICE_ID)).toMatch(/gateway/);
  });
});
