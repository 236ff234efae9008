/**
 * npx tsx examples/nestjs-app.ts
 *
 * A NestJS 11 app (Express platform) with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line; the monitoring
 * router and its live dashboard answer under /api/v1/monitoring. In a NestJS project
 * (compiled with `experimentalDecorators`) the classes below carry the usual decorators, shown in
 * comments; here they are applied by hand, exactly as TypeScript compiles them, so the file runs
 * and type-checks with this repository's standard-decorator settings.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EnterpriseModule } from '../src/adapters/nestjs.js';
import { getCorrelationId, MonitorPerformance } from '../src/index.js';
import {
  HOST,
  PORT,
  PREFIX,
  printUrls,
  SMOKE,
  smokeTest,
  TOKEN,
} from './support/example-runner.js';

// @Injectable()
class UserService {
  // @MonitorPerformance('UserService.find') — binds to the default instance at call time.
  async find(id: string) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { id, name: `User ${id}`, correlationId: getCorrelationId() };
  }
}

// @Controller('users')
class UserController {
  // constructor(@Inject(UserService) private readonly users: UserService) {}
  constructor(private readonly users: UserService) {}

  // @Get(':id') find(@Param('id') id: string)
  find(id: string) {
    return this.users.find(id);
  }
}

// @Module({ imports: [EnterpriseModule.forRoot({ ... })], controllers: [UserController], providers: [UserService] })
class AppModule {}

/** Applies legacy method decorators the way TypeScript's `__decorate` does. */
function decorateMethod(target: object, key: string, ...decorators: MethodDecorator[]): void {
  let descriptor = Object.getOwnPropertyDescriptor(target, key)!;
  for (const decorator of decorators.reverse()) {
    descriptor =
      (decorator(target, key, descriptor) as PropertyDescriptor | undefined) ?? descriptor;
  }
  Object.defineProperty(target, key, descriptor);
}

Injectable()(UserService);
decorateMethod(
  UserService.prototype,
  'find',
  MonitorPerformance('UserService.find') as MethodDecorator,
);
Controller('users')(UserController);
Inject(UserService)(UserController, undefined as unknown as string, 0);
decorateMethod(UserController.prototype, 'find', Get(':id'));
Param('id')(UserController.prototype, 'find', 0);
Module({
  imports: [
    EnterpriseModule.forRoot({
      // configure() the process default with in-memory defaults (REDIS_URL adds Redis).
      config: { logLevel: SMOKE ? 'warn' : 'info' },
      prefix: PREFIX,
      auth: TOKEN,
    }),
  ],
  controllers: [UserController],
  providers: [UserService],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: SMOKE ? false : ['error', 'warn'] });
if (!SMOKE) app.enableShutdownHooks();
await app.listen(PORT, HOST);
const base = `http://${HOST}:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
printUrls('NestJS', base, PREFIX, TOKEN);
if (SMOKE) {
  try {
    await smokeTest(base, PREFIX, TOKEN);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  await app.close();
}
