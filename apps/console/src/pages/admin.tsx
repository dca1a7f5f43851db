import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { DataState } from '../components/feedback';
import { Pager } from '../components/pager';
import { formatDate, When } from '../components/time';
import { formatMinor } from '../format';
import { useApi } from '../use-api';

const PAGE = 50;

interface InvoiceView {
  id: string;
  app?: string;
  plan?: string;
  periodStart?: string;
  periodEnd?: string;
  amountMinor?: number;
  currency?: string;
  poNumber?: string;
  issuedAt?: string;
}

/** The last day a period covers: the API gives its exclusive end. */
function lastDay(periodEnd: string | undefined): string {
  if (!periodEnd) return '—';
  return formatDate(new Date(new Date(periodEnd).getTime() - 1));
}

/** Invoices of the workspace (administrators), oldest period first as the API lists them. */
export function InvoicesPage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const invoices = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/invoices', {
          params: { path: { workspace }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['invoices', workspace, cursor],
  );
  return (
    <>
      <h1>Invoices</h1>
      <DataState
        loaded={invoices}
        what="the invoices"
        isEmpty={(d) => d.items.length === 0}
        empty="No invoice yet: the runner issues one per app and billing period."
      >
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Invoices, oldest period first`}>
              <table>
                <caption className="sr-only">Invoices, oldest period first</caption>
                <thead>
                  <tr>
                    <th scope="col">Period</th>
                    <th scope="col">App</th>
                    <th scope="col">Plan</th>
                    <th scope="col" className="num">Amount</th>
                    <th scope="col">PO number</th>
                    <th scope="col">Issued</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((raw) => {
                    const i = raw as InvoiceView;
                    return (
                      <tr key={i.id}>
                        <th scope="row">
                          {formatDate(i.periodStart)} – {lastDay(i.periodEnd)}
                        </th>
                        <td>{i.app ?? '—'}</td>
                        <td>{i.plan ?? '—'}</td>
                        <td className="num">{typeof i.amountMinor === 'number' && i.currency ? formatMinor(i.amountMinor, i.currency) : '—'}</td>
                        <td>{i.poNumber ?? '—'}</td>
                        <td>
                          <When value={i.issuedAt} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager label="Invoices" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}

function detailsText(details: Record<string, unknown> | null): string {
  if (!details) return '';
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** The audit log of the workspace (administrators), newest first. */
export function AuditPage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const events = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/audit', {
          params: { path: { workspace }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['audit', workspace, cursor],
  );
  return (
    <>
      <h1>Audit log</h1>
      <p>Every change made in this workspace, by whom, and whether it went through.</p>
      <DataState loaded={events} what="the audit log" isEmpty={(d) => d.items.length === 0} empty="Nothing was changed in this workspace yet.">
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Audit log, newest first`}>
              <table>
                <caption className="sr-only">Audit log, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">On</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((e) => (
                    <tr key={e.id}>
                      <th scope="row">
                        <When value={e.at} />
                      </th>
                      <td>{e.actor}</td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>{e.target ?? '—'}</td>
                      <td>
                        <span className={`badge ${e.outcome === 'ok' ? 'ok' : 'failed'}`}>{e.outcome}</span>
                      </td>
                      <td>{detailsText(e.details)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Audit log" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}
