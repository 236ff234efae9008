import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTERPRISE, EnterpriseModule } from '../../src/adapters/nestjs.js';
import { getCorrelationId } from '../../src/core/context.js';
import type { Enterprise } from '../../src/index.js';
import { getEnterprise } from '../../src/index.js';
import { MonitorPerformance } from '../../src/performance/index.js';
import { BackgroundTask } from '../../src/tasks/registry.js';
import {
  type AdapterHarness,
  describeAdapter,
  type HostOptions,
  testEnterprise,
} from '../adapters/suite.js';

// esbuild emits no decorator metadata: every injection names its token.
const USERS = 'UsersService';

@Injectable()
class UsersService {
  @MonitorPerformance('UsersService.find')
  find(id: string) {
    return { id, correlationId: getCorrelationId() };
  }

  @BackgroundTask('nest_adapter_test_task')
  async handle(payload: { n: number }) {
    return payload.n * 2;
  }
}

@Controller()
class AppController {
  constructor(private readonly users: UsersService) {}

  @Get('users/:id')
  user(id: string) {
    return this.users.find(id);
  }

  @Post('echo')
  @HttpCode(200)
  echo(body: unknown) {
    return { body };
  }

  @Post('login')
  @HttpCode(200)
  login() {
    return { ok: true };
  }

  @Get('fail')
  fail() {
    throw new Error('boom');
  }
}

// Parameter decorators applied by hand (Biome does not parse them): what TypeScript emits for
// `constructor(@Inject(USERS) users)`, `user(@Param('id') id)` and `echo(@Body() body)`.
Inject(USERS)(AppController, undefined as unknown as string, 0);
Param('id')(AppController.prototype, 'user', 0);
Body()(AppController.prototype, 'echo', 0);

async function createApp(options: HostOptions, extra: object = {}) {
  @Module({
    imports: [
      EnterpriseModule.forRoot({
        enterprise: options.enterprise,
        prefix: options.prefix,
        auth: options.auth,
        public: options.public,
        maxStreams: options.maxStreams,
        instrument: { security: options.security },
        ...extra,
      }),
    ],
    controllers: [AppController],
    providers: [{ provide: USERS, useClass: UsersService }],
  })
  class AppModule {}
  // abortOnError: false, or a failing module would abort the test process.
  return NestFactory.create(AppModule, { logger: false, abortOnError: false });
}

const harness: AdapterHarness = {
  async start(options) {
    const app = await createApp(options);
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

describeAdapter('nestjs', harness);

describe('EnterpriseModule', () => {
  afterAll(async () => {
    await getEnterprise().shutdown();
  });

  it('exports the instance, binds @BackgroundTask providers and times @MonitorPerformance under http.request', async () => {
    const { enterprise } = testEnterprise();
    const app = await createApp({ enterprise, prefix: '/ops', auth: 'token' });
    try {
      await app.listen(0, '127.0.0.1');
      expect(app.get<Enterprise>(ENTERPRISE)).toBe(enterprise);
      expect(app.get(EnterpriseModule).taskHandlers).toContain('nest_adapter_test_task');
      // The decorated provider method records into the default instance, as decorators do.
      const spans: { name: string; parents: string[] }[] = [];
      const defaults = getEnterprise();
      const listener = (span: { name: string; parents: string[] }) => {
        spans.push(span);
      };
      defaults.performance.on('span', listener);
      const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/users/3`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      defaults.performance.off('span', listener);
      expect(spans.find((span) => span.name === 'UsersService.find')?.parents).toEqual([
        'http.request',
      ]);
      const monitoring = await fetch(`http://127.0.0.1:${port}/ops/performance/summary`, {
        headers: { authorization: 'Bearer token' },
      });
      expect(monitoring.status).toBe(200);
      await monitoring.arrayBuffer();
    } finally {
      await app.close();
    }
    expect(enterprise.state).toBe('stopped');
  });
});
