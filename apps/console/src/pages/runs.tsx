import { Notice } from '../components/feedback';

// Placeholder until this page is built (the console is being built this session).
export function RunPage(_props: { workspace: string; [key: string]: unknown }) {
  return <Notice>This page is not built yet.</Notice>;
}
export function RunsPage(_props: { workspace: string; [key: string]: unknown }) {
  return <Notice>This page is not built yet.</Notice>;
}
