/**
 * The product service (examples/product-service/server.mjs) as its own
 * Node process, started the way its README says, on a free port (PORT=0;
 * the port is read from its "listening on" line), stopped by PID. Its log
 * lines are kept with the time they arrived, so the timeline can mark what
 * the service saw (a node ejected, a node back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../examples/product-service/server.mjs', import.meta.url));
const READY_WITHIN_MS = 120_000;
const STOP_WITHIN_MS = 5_000;

export interface ServiceLine {
  readonly ms: number;
  readonly text: string;
}

export class ServiceProcess {
  readonly lines: ServiceLine[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #port: number | undefined;

  private constructor(child: ChildProcess, exited: Promise<void>) {
    this.#child = child;
    this.#exited = exited;
  }

  /** Starts server.mjs with `env` (on top of PATH only) and waits until it listens; `clock` stamps its log lines. */
  static async start(name: string, env: Readonly<Record<string, string>>, clock: () => number): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const service = new ServiceProcess(child, exited);
    let pending = '';
    const read = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        service.lines.push({ ms: clock(), text });
        const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text)?.[1];
        if (port !== undefined) service.#port = Number(port);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    const until = Date.now() + READY_WITHIN_MS;
    while (service.#port === undefined) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
        await service.stop();
        throw new Error(`${name} did not start:\n${service.lines.map((line) => line.text).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** SIGTERM (the service closes its server, cache and pool), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const running = () => this.#child.exitCode === null && this.#child.signalCode === null;
    if (!running()) return;
    this.#child.kill('SIGTERM');
    const timer = new Promise<void>((resolve) => setTimeout(resolve, STOP_WITHIN_MS).unref());
    await Promise.race([this.#exited, timer]);
    if (running()) this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
