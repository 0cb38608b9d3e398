// An accessible data table: a caption, `<th scope="col">`, and sortable columns as buttons whose header carries
// `aria-sort`, so screen readers announce the order; sorting is client-side over the rows on screen.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { sortRows } from '../format.js';

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ComponentChildren;
  /** A sort key makes the column sortable. */
  sort?: (row: T) => string | number | null;
  numeric?: boolean;
}

export function Table<T>(props: {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  empty?: string;
  initialSort?: { key: string; direction: 'ascending' | 'descending' };
}) {
  const [sort, setSort] = useState(props.initialSort);
  const column = props.columns.find((c) => c.key === sort?.key);
  const rows = sort && column?.sort ? sortRows(props.rows, column.sort, sort.direction) : props.rows;
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = sort?.key === c.key;
              const ariaSort = active ? sort?.direction : c.sort ? 'none' : undefined;
              return (
                <th scope="col" key={c.key} aria-sort={ariaSort} class={c.numeric ? 'num' : undefined}>
                  {c.sort ? (
                    <button
                      type="button"
                      class="sort"
                      onClick={() =>
                        setSort({
                          key: c.key,
                          direction: active && sort?.direction === 'descending' ? 'ascending' : 'descending',
                        })
                      }
                    >
                      {c.label}
                      <span aria-hidden="true">{active ? (sort?.direction === 'ascending' ? ' ▲' : ' ▼') : ' ↕'}</span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length}>{props.empty ?? 'Nothing to show.'}</td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={props.rowKey(row)}>
                {props.columns.map((c) => (
                  <td key={c.key} class={c.numeric ? 'num' : undefined}>
                    {c.render(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
