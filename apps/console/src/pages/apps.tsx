import { Notice } from '../components/feedback';

// Placeholder until this page is built (the console is being built this session).
export function AppPage(_props: { workspace: string; [key: string]: unknown }) {
  return <Notice>This page is not built yet.</Notice>;
}
export function AppsPage(_props: { workspace: string; [key: string]: unknown }) {
  return <Notice>This page is not built yet.</Notice>;
}
