// Loading an API resource for a page: the value, the error (shown as the problem's title and detail), and a
// reload. Requests from a page that has been left are aborted.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: string } | { state: 'ready'; value: T };

export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setResult({ state: 'loading' });
    load(controller.signal)
      .then((value) => {
        if (!controller.signal.aborted) setResult({ state: 'ready', value });
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setResult({
          state: 'error',
          error: err instanceof ApiError || err instanceof Error ? err.message : 'request failed',
        });
      });
    return () => controller.abort();
  }, [...deps, generation]);
  return [result, () => setGeneration((g) => g + 1)];
}

export function Show<T>(props: { loaded: Loaded<T>; children: (value: T) => ComponentChildren; what: string }) {
  if (props.loaded.state === 'loading')
    return (
      <p aria-live="polite" data-loading>
        Loading {props.what}…
      </p>
    );
  if (props.loaded.state === 'error') {
    return (
      <p role="alert" class="error">
        Could not load {props.what}: {props.loaded.error}
      </p>
    );
  }
  return <>{props.children(props.loaded.value)}</>;
}
