/**
 * Breaks a file descriptor this process holds open on `path` (Linux: found
 * through /proc/self/fd): it is closed and a read-only /dev/null takes its
 * number, so the owner's next write gets EBADF from the kernel, a real
 * file-system error with nothing mocked.
 */
import { closeSync, openSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';

/** The descriptor number now on /dev/null; throws when none was open on `path`. */
export function breakDescriptorOf(path: string): number {
  const target = realpathSync(path);
  const fd = readdirSync('/proc/self/fd')
    .map(Number)
    .find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`) === target;
      } catch {
        return false;
      }
    });
  if (fd === undefined) throw new Error(`no descriptor of this process is open on ${path}`);
  closeSync(fd);
  const again = openSync('/dev/null', 'r');
  if (again !== fd) throw new Error(`/dev/null opened as ${again}, not ${fd}`);
  return fd;
}
