'use strict';
// An unmodified hyco-ws (Microsoft's Node Hybrid Connections package, ws 1.1 inside) as an interop peer.
// Runs in its own process because hyco-ws trusts CAs only through NODE_EXTRA_CA_CERTS, which Node reads
// at start-up. Configuration: one JSON argument. Output: one JSON object per line on stdout.
// Ends when stdin closes (the parent owns its lifetime).
//
//   listen: {"mode":"listen","namespace","path","keyName","key"} — echoes every binary message back and
//           reports {"event":"received","bytes","sha256"} when a connection closes.
//   send:   {"mode":"send","namespace","path","keyName","key","bytes"} — sends `bytes` random bytes, reads
//           the echo, reports {"event":"done","bytes","sentSha256","receivedSha256"} and exits.

const crypto = require('crypto');
const WS = require('hyco-ws');

const cfg = JSON.parse(process.argv[2]);
// createRelayBaseUri() pins port 443; the sandbox listens on an ephemeral port, so the URIs are built here.
const base = `wss://${cfg.namespace}/$hc/${cfg.path}`;
const resource = `http://${cfg.namespace}/${cfg.path}`;
const report = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

if (cfg.mode === 'listen') {
  const server = WS.createRelayedServer(
    {
      server: `${base}?sb-hc-action=listen`,
      token: () => WS.createRelayToken(resource, cfg.keyName, cfg.key),
    },
    (ws) => {
      report({ event: 'connection' });
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      ws.on('message', (data) => {
        const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
        hash.update(chunk);
        bytes += chunk.length;
        ws.send(chunk, { binary: true });
      });
      ws.on('close', () => report({ event: 'received', bytes, sha256: hash.digest('hex') }));
      ws.on('error', (err) => report({ event: 'error', message: String(err && err.message) }));
    },
  );
  server.on('listening', () => report({ event: 'listening' }));
  server.on('error', (err) => report({ event: 'error', message: String((err && err.message) || err) }));
} else if (cfg.mode === 'send') {
  const token = WS.createRelayToken(resource, cfg.keyName, cfg.key);
  const ws = WS.relayedConnect(`${base}?sb-hc-action=connect`, token);
  const payload = crypto.randomBytes(cfg.bytes);
  const received = [];
  let receivedBytes = 0;
  ws.on('open', () => {
    report({ event: 'open' });
    for (let offset = 0; offset < payload.length; offset += 65536) {
      ws.send(payload.subarray(offset, offset + 65536), { binary: true });
    }
  });
  ws.on('message', (data) => {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
    received.push(chunk);
    receivedBytes += chunk.length;
    if (receivedBytes >= payload.length) {
      const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
      report({
        event: 'done',
        bytes: receivedBytes,
        sentSha256: sha(payload),
        receivedSha256: sha(Buffer.concat(received)),
      });
      ws.close();
    }
  });
  ws.on('close', () => process.exit(0));
  ws.on('error', (err) => {
    report({ event: 'error', message: String((err && err.message) || err) });
    process.exit(1);
  });
} else {
  report({ event: 'error', message: `unknown mode ${cfg.mode}` });
  process.exit(2);
}
