import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  SubmitTaskFunction,
  TaskName,
  TaskPayload,
  TaskRegistry,
  TaskSubmission,
} from '../../src/tasks/index.js';
import { backgroundTask, submitTask, TaskPriority } from '../../src/tasks/index.js';

/** What an application declares with `declare module '@revcopy/enterprise/tasks'`. */
interface AppTasks {
  process_analytics: { userId: number };
  send_welcome_email: string;
  nightly_cleanup: undefined;
  optional_report: { month: string } | undefined;
}

// Type-level only: checked by `tsc` (npm run typecheck); the functions are never called.
declare const typed: SubmitTaskFunction<AppTasks>;
declare const open: SubmitTaskFunction<{}>;

function compileTimeChecks() {
  void typed('process_analytics', { userId: 123 });
  void typed('send_welcome_email', 'ada@example.com', { priority: TaskPriority.HIGH });
  void typed('nightly_cleanup');
  void typed('optional_report');
  void typed('optional_report', { month: '2024-01' }, { delay: '5m' });
  // @ts-expect-error: not a registered name
  void typed('proces_analytics', { userId: 123 });
  // @ts-expect-error: wrong payload type
  void typed('process_analytics', { userId: '123' });
  // @ts-expect-error: the payload is required
  void typed('process_analytics');
  // @ts-expect-error: unknown option
  void typed('send_welcome_email', 'a', { priorty: 1 });
  // With nothing registered, any name and payload goes.
  void open('anything', { any: 'thing' });
  void open('no_payload');
  const batch: TaskSubmission<AppTasks>[] = [
    { name: 'process_analytics', payload: { userId: 1 } },
    // @ts-expect-error: payload does not match the name
    { name: 'send_welcome_email', payload: { userId: 1 } },
  ];
  void batch;
  // The exported submitTask uses the (here empty) TaskRegistry.
  void submitTask('whatever', 1);
  // backgroundTask infers the payload of .submit() from the handler.
  const email = backgroundTask('types_email', (to: string) => to.length);
  void email.submit('a@b.c');
  // @ts-expect-error: the handler takes a string
  void email.submit(42);
}

describe('TaskRegistry typing', () => {
  it('derives names and payloads from the registry', () => {
    expectTypeOf<TaskName<AppTasks>>().toEqualTypeOf<
      'process_analytics' | 'send_welcome_email' | 'nightly_cleanup' | 'optional_report'
    >();
    expectTypeOf<TaskPayload<'process_analytics', AppTasks>>().toEqualTypeOf<{ userId: number }>();
    // An empty registry accepts any name.
    expectTypeOf<TaskName<{}>>().toEqualTypeOf<string>();
    expectTypeOf<TaskName<TaskRegistry>>().toEqualTypeOf<string>();
    expect(typeof compileTimeChecks).toBe('function');
  });
});
