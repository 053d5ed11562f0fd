import { readFileSync } from 'node:fs';

/** Linux's list of cores, as `Cpus_allowed_list` in /proc/<pid>/status and taskset write it: `0-3,8,10-11`. */
export function parseCoreList(list: string): number[] {
  const cores: number[] = [];
  for (const range of list.split(',').filter(Boolean)) {
    const [from, to = from] = range.split('-').map(Number);
    for (let core = from!; core <= to!; core++) cores.push(core);
  }
  return cores;
}

/** The cores a process may run on (Linux's /proc), or undefined when that cannot be read. */
export function allowedCores(pid: number | 'self'): number[] | undefined {
  try {
    const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const cores = list ? parseCoreList(list) : [];
    return cores.length > 0 ? cores : undefined;
  } catch {
    return undefined;
  }
}
