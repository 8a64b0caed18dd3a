/**
 * A real PostgreSQL server for the product-service test and the end-to-end
 * bench: `initdb` in its own temp dir, `pg_ctl start` on a free loopback
 * port (unix socket in the temp dir, trust authentication, nothing else
 * listening), stopped by the postmaster's PID.
 *
 * Debian's `postgresql` package puts the binaries in
 * /usr/lib/postgresql/<major>/bin, off the PATH: the newest major there is
 * used, else whatever `initdb` the PATH has. PostgreSQL refuses to run as
 * root, so as root every command runs as the `postgres` user the package
 * creates (setpriv, which execs in place, from util-linux) and the temp dir
 * is given to that user.
 *
 * pg_ctl detaches the postmaster, so it is no child of this process: the
 * servers harness's watchdog takes its PID (`watchDetached`) and kills it if
 * this process dies first. Backends exit by themselves when the postmaster
 * dies.
 *
 * `pg_stat_statements` is loaded and created: its counters are PostgreSQL's
 * own count of the statements it ran, read by `statementCalls`.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, watchDetached } from './servers.js';

const HOST = '127.0.0.1';
const COMMAND_LIMIT_MS = 60_000;
const STOP_WITHIN_MS = 10_000;
const KILLED_WITHIN_MS = 3_000;

/**
 * For tests: durability off (a throwaway cluster), statement counters on.
 * The bench passes its own `settings` on top.
 */
const DEFAULT_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: 'pg_stat_statements',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '60',
};

export interface PostgresOptions {
  /** Server settings (`-c name=value`), over the defaults above. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Free ports to try when the server loses the race for its port. Default 3. */
  readonly attempts?: number;
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication on loopback). */
  readonly url: string;
  /** The postmaster's PID. */
  readonly pid: number;
  readonly dir: string;
  /** SIGINT (fast shutdown), SIGKILL after 10 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Where initdb, pg_ctl and postgres are, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    for (const major of majors) if (existsSync(join(debian, major, 'bin', 'initdb'))) return join(debian, major, 'bin');
  }
  return (process.env['PATH'] ?? '').split(':').find((dir) => dir !== '' && existsSync(join(dir, 'initdb')));
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed: apt-get install postgresql (scripts/test-all.sh does)');
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-postgres-'));
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const data = join(dir, 'data');
    await run(user, join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    const settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    const errors: string[] = [];
    for (let attempt = 0; attempt < (opts.attempts ?? 3); attempt++) {
      const port = await freePort();
      const options = ['-h', HOST, '-p', String(port), '-k', dir, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
      try {
        await run(user, join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
      } catch (error) {
        errors.push((error as Error).message);
        if (!/could not bind|address already in use/i.test(logTail(dir))) break;
        continue;
      }
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const server = new Postgres(port, pid, dir, watchDetached(pid, dir));
      try {
        await withClient(server.url, (client) => client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
      } catch (error) {
        await server.stop();
        throw error;
      }
      return server;
    }
    throw new Error(`could not start PostgreSQL:\n${errors.join('\n')}\n--- server log ---\n${logTail(dir)}`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

class Postgres implements PostgresServer {
  readonly host = HOST;
  readonly url: string;
  #stopped: Promise<void> | undefined;

  constructor(
    readonly port: number,
    readonly pid: number,
    readonly dir: string,
    private readonly unwatch: () => void,
  ) {
    this.url = `postgres://postgres@${HOST}:${port}/postgres`;
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      signal(this.pid, 'SIGINT');
      if (!(await exited(this.pid, STOP_WITHIN_MS))) {
        signal(this.pid, 'SIGKILL');
        if (!(await exited(this.pid, KILLED_WITHIN_MS))) throw new Error(`postgres pid ${this.pid} did not exit after SIGKILL`);
      }
      this.unwatch();
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }
}

/** Runs `callback` with a fresh connection, closed afterwards. */
export async function withClient<T>(url: string, callback: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection also fails the query in flight, which reports it
  await client.connect();
  try {
    return await callback(client);
  } finally {
    await client.end();
  }
}

/**
 * Calls of the statements whose text contains `fragment` (case-insensitive),
 * as PostgreSQL counted them (pg_stat_statements), summed.
 */
export async function statementCalls(client: pg.Client | pg.Pool, fragment: string): Promise<number> {
  const { rows } = await client.query<{ calls: string | null }>(
    `SELECT sum(calls) AS calls FROM pg_stat_statements WHERE query ILIKE '%' || $1 || '%' AND query NOT ILIKE '%pg_stat_statements%'`,
    [fragment],
  );
  return Number(rows[0]?.calls ?? 0);
}

export async function resetStatementCalls(client: pg.Client | pg.Pool): Promise<void> {
  await client.query('SELECT pg_stat_statements_reset()');
}

interface User {
  readonly uid: number;
  readonly gid: number;
}

/** As root: the `postgres` user (PostgreSQL will not run as root). Otherwise: undefined, run as we are. */
function serverUser(): User | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (line === undefined) throw new Error('running as root and there is no postgres user to run PostgreSQL as (the postgresql package creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(user: User | undefined, command: string, args: readonly string[]): Promise<void> {
  const [file, argv] = user ? ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: COMMAND_LIMIT_MS, cwd: tmpdir() }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command.split('/').pop()} failed (${error.message.split('\n')[0]}): ${`${stdout}${stderr}`.trim().slice(-2000)}`));
      else resolve();
    });
  });
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'log'), 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    if (alive(pid)) process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Running and not a zombie (the postmaster is not our child, so whoever reaps it may take a while). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (alive(pid)) {
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

