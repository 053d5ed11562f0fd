import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** /proc/net/tcp's state for a listening socket. */
const LISTEN = '0A';

/**
 * The processes on this machine listening on a loopback URL's port (Linux's /proc; only those this
 * user may look into), so that a phase against an endpoint that "already runs" beside the
 * generator can tell its CPU from other processes'. Empty for any other host, or elsewhere.
 */
export function loopbackListenerPids(url: string): number[] {
  if (process.platform !== 'linux') return [];
  let port: number;
  try {
    const parsed = new URL(url);
    if (!LOOPBACK_HOSTS.has(parsed.hostname)) return [];
    port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  } catch {
    return [];
  }
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const fds = safeReaddir(`/proc/${pid}/fd`);
    if (fds.some((fd) => inodes.has(socketInode(`/proc/${pid}/fd/${fd}`) ?? ''))) pids.push(pid);
  }
  return pids;
}

/** The inodes of sockets listening on this port, from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1]!.endsWith(`:${hexPort}`) && fields[3] === LISTEN) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

function socketInode(fdPath: string): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(fdPath))?.[1];
  } catch {
    return undefined;
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
