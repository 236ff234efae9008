import 'reflect-metadata';
import { afterAll, describe, expect, it } from 'vitest';
import {
  configure,
  createMethodDecorator,
  getEnterprise,
  InvalidArgumentError,
  MonitorPerformance,
} from '../../src/index.js';
import { describeMonitorPerformance } from '../support/decorator-suite.js';

// The same behaviour is checked under standard decorators by tests/core/decorators.test.ts.
describeMonitorPerformance('legacy');

afterAll(async () => {
  await getEnterprise().shutdown();
});

function invalidArgument(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

/**
 * What `tsc --emitDecoratorMetadata` adds below the user's decorators. esbuild, which compiles the
 * tests, does not emit it, so these tests add it by hand in the same place; tests/legacy/
 * tsc-compiled.test.ts checks the real tsc output.
 */
const designType = Reflect.metadata('design:type', Function);
const designParamTypes = (...types: unknown[]) => Reflect.metadata('design:paramtypes', types);
const designReturnType = (type: unknown) => Reflect.metadata('design:returntype', type);

/** Like NestJS's `@Get(path)`: stores metadata on `descriptor.value`. */
function Route(path: string): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata('path', path, descriptor.value as object);
  };
}

class Credentials {
  constructor(readonly user: string) {}
}

describe('@MonitorPerformance under experimentalDecorators', () => {
  it('records calls as Class.method', () => {
    const enterprise = configure({
      env: {},
      logLevel: 'silent',
      performance: { systemMetrics: false },
    });
    class Service {
      @MonitorPerformance()
      add(a: number, b: number) {
        return a + b;
      }
    }
    expect(new Service().add(1, 2)).toBe(3);
    expect(enterprise.performance.getStats('Service.add')?.windows.all.count).toBe(1);
  });

  it('copies metadata that a decorator below it put on descriptor.value to the wrapper', () => {
    configure({ env: {}, logLevel: 'silent', performance: { systemMetrics: false } });
    class AuthController {
      @MonitorPerformance()
      @Route('/login')
      @designType
      @designParamTypes(Credentials, String)
      @designReturnType(Promise)
      async login(credentials: Credentials, _ip: string): Promise<string> {
        return credentials.user;
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(AuthController.prototype, 'login');
    expect(Reflect.getMetadata('path', descriptor?.value)).toBe('/login');
    expect(Reflect.getMetadata('path', AuthController.prototype.login)).toBe('/login');
    expect(Reflect.getMetadata('design:paramtypes', AuthController.prototype, 'login')).toEqual([
      Credentials,
      String,
    ]);
    expect(Reflect.getMetadata('design:returntype', AuthController.prototype, 'login')).toBe(
      Promise,
    );
    expect(AuthController.prototype.login.name).toBe('login');
    expect(AuthController.prototype.login.length).toBe(2);
  });

  it('keeps design:paramtypes readable when it is the outermost decorator', async () => {
    const enterprise = configure({
      env: {},
      logLevel: 'silent',
      performance: { systemMetrics: false },
    });
    class UserService {
      @designParamTypes(Credentials)
      @MonitorPerformance('user_authentication')
      async authenticate(credentials: Credentials): Promise<boolean> {
        return credentials.user === 'ada';
      }
    }
    expect(Reflect.getMetadata('design:paramtypes', UserService.prototype, 'authenticate')).toEqual(
      [Credentials],
    );
    await expect(new UserService().authenticate(new Credentials('ada'))).resolves.toBe(true);
    expect(enterprise.performance.getStats('user_authentication')?.windows.all.count).toBe(1);
  });

  it('throws InvalidArgumentError on a getter, naming it an accessor', () => {
    const error = invalidArgument(() => {
      class Account {
        @MonitorPerformance()
        get balance(): number {
          return 1;
        }
      }
      return Account;
    });
    expect(error.message).toContain('@MonitorPerformance()');
    expect(error.message).toContain('an accessor');
  });

  it('throws InvalidArgumentError on a setter', () => {
    invalidArgument(() => {
      class Account {
        @MonitorPerformance()
        set balance(_value: number) {}
      }
      return Account;
    });
  });

  it('throws InvalidArgumentError on a property', () => {
    invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @MonitorPerformance()
        balance = 1;
      }
      return Account;
    });
  });

  it('throws InvalidArgumentError that suggests @MonitorPerformance() when the parentheses are forgotten', () => {
    const error = invalidArgument(() => {
      class Account {
        // @ts-expect-error a decorator factory, not a decorator
        @MonitorPerformance
        deposit(): void {}
      }
      return Account;
    });
    expect(error.message).toContain('@MonitorPerformance()');
  });

  it('a custom createMethodDecorator decorator names itself when misused', () => {
    const Custom = () => createMethodDecorator('Custom', (original) => original);
    const error = invalidArgument(() => {
      class Account {
        @Custom()
        get balance(): number {
          return 1;
        }
      }
      return Account;
    });
    expect(error.message).toContain('@Custom()');
  });
});
