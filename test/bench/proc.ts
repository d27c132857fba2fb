import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and memory of processes from Linux /proc: recognition workers are processes of their
 * own (RecognizerPool), so a figure for the service adds theirs to the server's.
 */

/** CPU seconds (user + system) of a process, or of its main thread alone; 0 once it is gone. */
export function cpuSeconds(pid: number, mainThreadOnly = false): number {
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks of 10 ms
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MB; 0 once it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0;
  }
}

/** The processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

/** CPU seconds of the children of a process that have exited and been waited for (cutime + cstime). */
export function reapedChildrenCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of a process and its children together (a server and its recognition
 * workers), those that have exited included (a replaced worker, espeak-ng).
 */
export function treeCpuSeconds(pid: number): number {
  return cpuSeconds(pid) + reapedChildrenCpuSeconds(pid) + childPids(pid).reduce((n, c) => n + cpuSeconds(c), 0);
}

/** Resident memory in MB of a process and its children together. */
export function treeRssMb(pid: number): number {
  return rssMb(pid) + childPids(pid).reduce((n, c) => n + rssMb(c), 0);
}
