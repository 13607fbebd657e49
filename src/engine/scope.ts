/**
 * Deterministic tensor memory, in the spirit of tf.tidy: every tensor created inside `tidy(fn)` is
 * disposed when fn returns, except the tensors it returns. Long loops wrap each iteration in a
 * tidy so memory does not grow per iteration; nothing waits for the garbage collector.
 */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: the innermost open scope will dispose it. */
export function track<T extends Disposable>(item: T): T {
  if (scopes.length > 0) scopes[scopes.length - 1].add(item);
  return item;
}

/** Removes a tensor from every open scope, so it outlives them (the caller must dispose it). */
export function keep<T extends Disposable>(item: T): T {
  for (const scope of scopes) scope.delete(item);
  return item;
}

/** Tensors found in a result: a tensor, or arrays / plain objects / Maps of them, up to 8 levels deep. */
function collect(value: unknown, out: Set<Disposable>, depth = 0): void {
  if (value === null || value === undefined || depth > 8) return;
  if (typeof value !== 'object') return;
  if (isDisposable(value)) {
    out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function isDisposable(value: object): value is Disposable {
  return typeof (value as Disposable).dispose === 'function' && 'isDisposed' in value;
}

/** Runs fn; disposes every tensor it created except those in its result (moved to the outer scope). */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  const kept = new Set<Disposable>();
  collect(result, kept);
  for (const t of scope) if (!kept.has(t)) t.dispose();
  if (scopes.length > 0) for (const t of kept) if (scope.has(t)) scopes[scopes.length - 1].add(t);
  return result;
}

/** Disposes every tensor in a value (a tensor, arrays / objects / Maps of them). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found);
  for (const t of found) t.dispose();
}
