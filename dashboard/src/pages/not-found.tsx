import type { PageProps } from '../app.js';

export default function NotFound(props: PageProps) {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{props.location.path}</code>. <a href="/">Go to the overview</a>.
      </p>
    </section>
  );
}
