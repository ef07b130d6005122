import { fork } from 'node:child_process';

/**
 * A benchmark's helper process (a publisher, a server under test), forked so
 * that its CPU and memory are not the measuring process's, and driven over
 * IPC: requests sent, replies awaited by kind.
 */
export interface WorkerProcess<Request, Reply extends { readonly kind: string }> {
  readonly pid: number;
  send(request: Request): void;
  /** The next reply of this kind; rejects when the process exits first. */
  next<K extends Reply['kind']>(kind: K): Promise<Extract<Reply, { kind: K }>>;
  /** Asks it to exit (`{kind: 'exit'}`), killing it after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
}

export function forkWorker<
  Request extends { readonly kind: string },
  Reply extends { readonly kind: string },
>(
  name: string,
  script: string,
  options: { args?: string[]; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): WorkerProcess<Request, Reply> {
  const child = fork(script, options.args ?? [], {
    execArgv: options.execArgv ?? ['--import', 'tsx'],
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (reply: Reply) => void>();
  child.on('message', (reply: Reply) => {
    const resolve = waiting.get(reply.kind);
    waiting.delete(reply.kind);
    resolve?.(reply);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  return {
    pid: child.pid ?? 0,
    send: (request) => {
      child.send(request);
    },
    next: <K extends Reply['kind']>(kind: K) =>
      new Promise<Extract<Reply, { kind: K }>>((resolve, reject) => {
        waiting.set(kind, resolve as (reply: Reply) => void);
        void exited.then(() => {
          reject(new Error(`the ${name} exited before '${kind}'`));
        });
      }),
    stop: async () => {
      if (child.exitCode === null && child.connected) child.send({ kind: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
