#!/usr/bin/env node
/**
 * Entry point: parse options, start the server, print the listening line
 * (and a generated feed token, once), stop gracefully on SIGTERM/SIGINT.
 */
import { helpText, parseCommandLine } from './config.js';
import { ConfigError, TickwireError } from './errors.js';
import { FD_RESERVE, fitToDescriptors } from './server/fd-limit.js';
import { WORKER_PORT_ENV, Workers, workerIndex } from './workers.js';

async function main(): Promise<number> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  // Loaded after --help: uws.js throws UwsUnavailableError (one line, below) when no native binary loads.
  const { TickwireServer } = await import('./server/server.js');
  const { uwsNative } = await import('./server/uws.js');
  const index = workerIndex();
  let config = parsed.config;
  if (config.workers > 1 && config.nats === undefined) {
    throw new ConfigError(
      '--workers (TICKWIRE_WORKERS) above 1 needs --nats: processes share no memory and meet on NATS',
    );
  }
  if (index > 0) {
    // A worker: the first process's port; the demo feed runs there only.
    config = Object.freeze({ ...config, port: Number(process.env[WORKER_PORT_ENV]), demo: false });
  }
  // Connection limits that fit the open-file limit (fd-limit.ts); the first
  // process also holds one IPC channel per worker. Workers fit the same way
  // and stay quiet: one line says it.
  const fit = fitToDescriptors(config, FD_RESERVE + (index === 0 ? config.workers - 1 : 0));
  if (fit.message !== undefined && index === 0) process.stderr.write(`tickwire: ${fit.message}\n`);
  if (fit.maxConnections !== config.maxConnections) {
    const { maxConnections, maxConnectionsPerIp } = fit;
    config = Object.freeze({ ...config, maxConnections, maxConnectionsPerIp });
  }
  const server = new TickwireServer(config);
  if (!uwsNative) {
    process.stderr.write(
      'WARNING: uWebSockets.js is running on its JS emulation (UWS_USE_FALLBACK with --allow-uws-fallback): ' +
        'HTTP diagnostics only; /feed, /stream and /stats/stream are refused, /readyz answers 503, ' +
        '/stats reports uws.native=false\n',
    );
  }
  const port = await server.start();
  if (index > 0) {
    process.stderr.write(
      `tickwire worker ${index} (pid ${process.pid}) listening on port ${port}\n`,
    );
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void server.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // The IPC channel to the first process closes when it exits, however it
    // died (even SIGKILL, which it cannot forward): a worker must not serve
    // on alone, unsupervised and outside the operator's view.
    process.on('disconnect', () => {
      process.stderr.write(`tickwire worker ${index}: the first process is gone; stopping\n`);
      stop();
    });
    return -1;
  }
  const workers = config.workers > 1 ? new Workers(port, config.feedToken) : undefined;
  workers?.start(config.workers);
  // The listening line comes first, so tools that wait for it read line 1.
  process.stdout.write(`tickwire listening on http://${urlHost(config.host)}:${port}\n`);
  if (workers !== undefined) {
    process.stdout.write(`workers: ${config.workers} processes share port ${port} (NATS bus)\n`);
  }
  if (server.healthPort !== undefined) {
    process.stdout.write(
      `health checks (HTTP/1.0 and 1.1) on http://${urlHost(config.host)}:${server.healthPort}/readyz\n`,
    );
  }
  const shownHost =
    config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : urlHost(config.host);
  if (config.feedTokenGenerated) {
    process.stdout.write(
      `feed token (generated; pass --feed-token to fix it): ${config.feedToken}\n`,
    );
  }
  if (config.demo) {
    process.stdout.write(
      `demo feed: ${config.demoSymbols} symbols at ${config.demoRate} ticks/s; try ws://${shownHost}:${port}/stream?symbols=*\n`,
    );
  }

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    Promise.all([server.stop(), workers?.stop(signal)]).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof TickwireError) {
      process.stderr.write(`tickwire: ${err.message} [${err.code}]\n`);
    } else {
      process.stderr.write(
        `tickwire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.exit(1);
  },
);

/** A host as it goes in a URL: IPv6 addresses in brackets (`http://[::1]:8080`). */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
