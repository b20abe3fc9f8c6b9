import { parseRoute, routeText } from '../../../../provisioning/src/deployment/routes';

describe('parseRoute', () => {
  it.each([
    ['FROM /* INTO $upstream', {}],
    ['FROM /twinChangeNotifications INTO $upstream', {}],
    ['FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream', {}],
    ['FROM /messages/modules/* INTO $upstream', {}],
    ['FROM /messages/modules/relay-forwarder/* INTO $upstream', { sourceModule: 'relay-forwarder' }],
    ['FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream', { sourceModule: 'relay-forwarder' }],
    [
      'FROM /messages/modules/a/outputs/stats INTO BrokeredEndpoint("/modules/b/inputs/in1")',
      { sourceModule: 'a', sinkModule: 'b' },
    ],
    ['from /messages/* where $body.x > 1 into $upstream', { condition: '$body.x > 1' }],
  ])('accepts %s', (text, expected) => {
    const parsed = parseRoute(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.route).toMatchObject(expected);
  });

  it.each([
    ['FROM /messages/modules/relay-forwarder/outputs/* TO $upstream', 'expected "FROM'],
    ['INTO $upstream', 'expected "FROM'],
    ['FROM /messages/modules INTO $upstream', 'unknown source'],
    ['FROM /messages/modules/a/inputs/x INTO $upstream', 'unknown source'],
    ['FROM /* INTO $downstream', 'unknown sink'],
    ['FROM /* INTO BrokeredEndpoint("/modules/b/outputs/x")', 'unknown sink'],
  ])('rejects %s', (text, error) => {
    const parsed = parseRoute(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });

  it('reads the route of both entry forms', () => {
    expect(routeText('FROM /* INTO $upstream')).toBe('FROM /* INTO $upstream');
    expect(routeText({ route: 'FROM /* INTO $upstream', priority: 1 })).toBe('FROM /* INTO $upstream');
    expect(routeText({ priority: 1 })).toBeUndefined();
  });
});
