// A form's submission: while it runs the button is disabled; the outcome is announced, a success as a status
// message and a failure as an alert with the problem document's title and detail (never a raw body).
import { useState } from 'preact/hooks';

export type Outcome =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; message: string }
  | { kind: 'error'; message: string };

export function useAction(): [Outcome, (work: () => Promise<string>) => Promise<boolean>] {
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const run = async (work: () => Promise<string>): Promise<boolean> => {
    setOutcome({ kind: 'busy' });
    try {
      setOutcome({ kind: 'done', message: await work() });
      return true;
    } catch (err) {
      setOutcome({ kind: 'error', message: err instanceof Error ? err.message : 'the request failed' });
      return false;
    }
  };
  return [outcome, run];
}

/** The outcome, in a live region that exists before it changes (so screen readers announce the change). */
export function OutcomeText(props: { outcome: Outcome; id?: string }) {
  const o = props.outcome;
  return (
    <p id={props.id} class={o.kind === 'error' ? 'error' : 'note'} role={o.kind === 'error' ? 'alert' : 'status'}>
      {o.kind === 'busy' ? 'Saving…' : o.kind === 'done' || o.kind === 'error' ? o.message : ''}
    </p>
  );
}

/** A form field's string value ('' when absent). */
export function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}
