/**
 * Why a listen failed. uWS's listen callback only reports `false`, so after
 * it fails the same host and port are tried once with node:net, whose error
 * carries the errno (EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND, …). The
 * probe's socket is closed at once; it runs only on the way to exiting.
 *
 * Measured here (Linux): uWS listens with SO_REUSEADDR, so connections left
 * in TIME_WAIT by an earlier run never block the port. With --workers 1 it
 * listens without SO_REUSEPORT (server.ts), so EADDRINUSE means another
 * process listens there: another program, or another tickwire. (The
 * processes of a --workers N server share their port with SO_REUSEPORT, so
 * a second --workers N server started on that port is not refused.)
 */
import { createServer } from 'node:net';

/** A one-line cause, starting with the errno name when one was found. */
export function listenFailureCause(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(explain(err, host, port)));
    try {
      probe.listen(port, host, () =>
        probe.close(() => resolve('cause unknown (the address was free when tried again)')),
      );
    } catch (err) {
      resolve(explain(err as NodeJS.ErrnoException, host, port));
    }
  });
}

function explain(err: NodeJS.ErrnoException, host: string, port: number): string {
  const code = err.code ?? 'error';
  switch (code) {
    case 'EADDRINUSE':
      return (
        `EADDRINUSE: another process, perhaps another tickwire, listens on port ${port} (see \`ss -ltnp 'sport = :${port}'\`); ` +
        'connections in TIME_WAIT do not block it (tickwire listens with SO_REUSEADDR)'
      );
    case 'EADDRNOTAVAIL':
      return `EADDRNOTAVAIL: ${host} is not an address of this machine (--host)`;
    case 'EACCES':
      return port < 1024
        ? `EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE`
        : 'EACCES: permission denied';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${code}: cannot resolve the host name ${host} (--host)`;
    case 'EAFNOSUPPORT':
      return `EAFNOSUPPORT: this machine does not support ${host}'s address family (IPv6 off?)`;
    default:
      return code;
  }
}
