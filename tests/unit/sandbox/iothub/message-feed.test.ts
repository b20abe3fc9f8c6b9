import { MessageFeed } from '../../../../sandbox/src/iothub/message-feed';

const msg = (deviceId: string) => ({
  deviceId,
  body: Buffer.from('x'),
  properties: {},
  systemProperties: {},
  enqueuedTimeUtc: 'now',
});

describe('message feed', () => {
  it('keeps a bounded ring, numbers messages and finds recent ones', async () => {
    const feed = new MessageFeed(2);
    feed.push(msg('a'));
    feed.push(msg('b'));
    feed.push(msg('c'));
    expect(feed.recent().map((m) => [m.deviceId, m.sequenceNumber])).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
    await expect(feed.waitFor((m) => m.deviceId === 'c')).resolves.toMatchObject({ sequenceNumber: 3 });
  });

  it('waits for a future message and gives up after its timeout', async () => {
    const feed = new MessageFeed();
    const later = feed.waitFor((m) => m.deviceId === 'z', { timeoutMs: 1000 });
    feed.push(msg('y'));
    feed.push(msg('z'));
    await expect(later).resolves.toMatchObject({ deviceId: 'z' });
    await expect(feed.waitFor(() => false, { timeoutMs: 10 })).rejects.toThrow(/within 10 ms/);
  });
});
