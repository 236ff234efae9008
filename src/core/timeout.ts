/**
 * @internal Settles as `promise` does, or rejects with an `Error` carrying `message` after `ms`
 * milliseconds, whichever comes first. The timer is unref'd and cleared when `promise` settles; a
 * late rejection of `promise` is handled here, never reported as unhandled. `onTimeout` runs right
 * after the timeout rejection (to drop a hung connection, say).
 */
export function rejectAfter<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
  onTimeout?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(message));
      onTimeout?.();
    }, ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
