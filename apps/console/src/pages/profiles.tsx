import { Notice } from '../components/feedback';

// Placeholder until this page is built (the console is being built this session).
export function ProfilesPage(_props: { workspace: string }) {
  return <Notice>This page is not built yet.</Notice>;
}
export function ProfilePage(_props: { workspace: string; name: string }) {
  return <Notice>This page is not built yet.</Notice>;
}
export function ProfileBuilderPage(_props: { workspace: string; name?: string }) {
  return <Notice>This page is not built yet.</Notice>;
}
