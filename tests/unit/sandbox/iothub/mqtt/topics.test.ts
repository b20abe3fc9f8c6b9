import {
  allowedFilters,
  filterMatches,
  parseInboundTopic,
  twinResponseTopic,
} from '../../../../../sandbox/src/iothub/mqtt/topics';

describe('IoT Hub MQTT topics', () => {
  it('decodes twin, method and telemetry topics as the SDK writes them', () => {
    expect(parseInboundTopic('$iothub/twin/GET/?$rid=abc')).toEqual({ kind: 'twinGet', rid: 'abc' });
    expect(parseInboundTopic('$iothub/twin/PATCH/properties/reported/?$rid=7&$version=3')).toEqual({
      kind: 'twinReported',
      rid: '7',
    });
    expect(parseInboundTopic('$iothub/methods/res/200/?$rid=1f')).toEqual({
      kind: 'methodResponse',
      rid: '1f',
      status: 200,
    });
    expect(parseInboundTopic('devices/d1/messages/events/')).toEqual({
      kind: 'telemetry',
      deviceId: 'd1',
      properties: {},
    });
    expect(
      parseInboundTopic('devices/d1/modules/m1/messages/events/%24.on=stats&%24.mid=x&site=a%20b/'),
    ).toEqual({
      kind: 'telemetry',
      deviceId: 'd1',
      moduleId: 'm1',
      properties: { '$.on': 'stats', '$.mid': 'x', site: 'a b' },
    });
  });

  it.each([
    '$iothub/twin/GET/',
    '$iothub/twin/DELETE/?$rid=1',
    'devices/d1/messages/devicebound/x',
    'other/topic',
  ])('refuses %j', (topic) => expect(parseInboundTopic(topic)).toBeUndefined());

  it('formats responses and matches filters', () => {
    expect(twinResponseTopic(204, 'r1', 5)).toBe('$iothub/twin/res/204/?$rid=r1&$version=5');
    expect(filterMatches('$iothub/twin/res/#', '$iothub/twin/res/200/?$rid=1')).toBe(true);
    expect(filterMatches('devices/+/messages/devicebound/#', 'devices/d/messages/devicebound/x')).toBe(true);
    expect(filterMatches('$iothub/methods/POST/#', '$iothub/twin/res/200')).toBe(false);
    expect(allowedFilters('d', 'm')).toContain('devices/d/modules/m/inputs/#');
    expect(allowedFilters('d')).toContain('devices/d/messages/devicebound/#');
  });
});
