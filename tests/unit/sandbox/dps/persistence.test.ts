import { isDpsStateDocument } from '../../../../sandbox/src/dps/persistence';

describe('DPS state document', () => {
  it('recognizes DPS state documents', () => {
    const doc = {
      schema: 1,
      idScope: '0ne1',
      dpsName: 'd',
      policies: [],
      enrollmentGroups: [],
      registrations: [],
    };
    expect(isDpsStateDocument(doc)).toBe(true);
    expect(isDpsStateDocument({ ...doc, schema: 2 })).toBe(false);
    expect(isDpsStateDocument(null)).toBe(false);
  });
});
