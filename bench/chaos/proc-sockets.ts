// What a process's sockets are, from /proc: each socket fd's inode looked up in /proc/net/{tcp,tcp6,unix}, so a
// socket held after a fault can be named (its local and remote ports and TCP state) instead of only counted.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One socket a process holds. */
export interface ProcSocket {
  readonly inode: string;
  /** 'tcp' (v4 or v6), 'unix', or 'other' (an inode in none of the tables: netlink, udp, ...). */
  readonly kind: 'tcp' | 'unix' | 'other';
  readonly localPort?: number;
  readonly remotePort?: number;
  /** TCP state name (ESTABLISHED, CLOSE_WAIT, LISTEN, ...). */
  readonly state?: string;
}

// The state column of /proc/net/tcp (include/net/tcp_states.h).
const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
];

/** The TCP state of the connection between two loopback ports, as this machine's kernel sees it. */
export function tcpState(localPort: number, remotePort: number): string {
  for (const t of tcpTable(process.pid).values())
    if (t.localPort === localPort && t.remotePort === remotePort) return t.state ?? '?';
  return 'gone';
}

function tcpTable(pid: number): Map<string, Omit<ProcSocket, 'inode' | 'kind'>> {
  const byInode = new Map<string, Omit<ProcSocket, 'inode' | 'kind'>>();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      // The process's own network namespace (the same as ours here, but this stays right in a container).
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = (addr: string): number => parseInt(addr.split(':')[1] ?? '0', 16);
      byInode.set(cols[9]!, {
        localPort: port(cols[1]!),
        remotePort: port(cols[2]!),
        state: TCP_STATES[parseInt(cols[3]!, 16)] ?? cols[3]!,
      });
    }
  }
  return byInode;
}

function unixInodes(pid: number): Set<string> {
  try {
    const lines = readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1);
    return new Set(lines.map((l) => l.trim().split(/\s+/)[6] ?? '').filter((i) => i !== ''));
  } catch {
    return new Set();
  }
}

/** Every socket fd of `pid`, described; empty when the process is gone. */
export function procSockets(pid: number | undefined): ProcSocket[] {
  if (pid === undefined) return [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.push(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const tcp = tcpTable(pid);
  const unix = unixInodes(pid);
  return inodes.map((inode) => {
    const t = tcp.get(inode);
    if (t) return { inode, kind: 'tcp', ...t };
    return { inode, kind: unix.has(inode) ? 'unix' : 'other' };
  });
}

/**
 * A compact description: TCP sockets grouped by what they talk to (`names` maps well-known remote or local
 * ports, e.g. the relay's, to a word) and state, e.g. `relay ESTABLISHED×3, listen :8080, unix×4`.
 */
export function describeSockets(sockets: readonly ProcSocket[], names: ReadonlyMap<number, string>): string {
  const counts = new Map<string, number>();
  for (const s of sockets) {
    let key: string;
    if (s.kind !== 'tcp') key = s.kind;
    else if (s.state === 'LISTEN') key = `listen :${names.get(s.localPort!) ?? s.localPort}`;
    else key = `${names.get(s.remotePort!) ?? names.get(s.localPort!) ?? `:${s.remotePort}`} ${s.state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => (n === 1 ? key : `${key}×${n}`))
    .join(', ');
}
