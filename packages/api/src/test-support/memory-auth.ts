import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ConfigError, type ApiKey, type AuditEvent, type Principal, type Session, type User, type WorkspaceRole } from '@tributary/core';
import type { AuthService } from '../auth-service.js';

// A stand-in for @tributary/auth while it is built on its own branch: same contract, kept in memory.
// Tests only; it goes once the real service is merged.

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

export function createMemoryAuthService(now: () => Date = () => new Date()): AuthService {
  const users = new Map<string, User & { passwordHash: string }>();
  const sessions = new Map<string, Session>();
  const keys = new Map<string, ApiKey & { secretHash: string }>();
  const audit: AuditEvent[] = [];
  const plain = ({ passwordHash: _, ...user }: User & { passwordHash: string }): User => ({ ...user, memberships: user.memberships.map((m) => ({ ...m })) });
  const principalOf = (user: User): Principal => ({ kind: 'user', userId: user.id, email: user.email, memberships: user.memberships.map((m) => ({ ...m })) });
  return {
    async createUser(input) {
      const email = input.email.trim().toLowerCase();
      if ([...users.values()].some((u) => u.email === email)) throw new ConfigError('USAGE', `A user ${email} exists already.`);
      const password = input.password ?? randomBytes(18).toString('base64url');
      const user = { id: randomUUID(), email, createdAt: now(), memberships: [{ workspace: input.workspace, role: input.role }], passwordHash: hash(password) };
      users.set(user.id, user);
      return { user: plain(user), ...(input.password ? {} : { oneTimePassword: password }) };
    },
    async signIn(input) {
      const user = [...users.values()].find((u) => u.email === input.email.trim().toLowerCase());
      if (!user || user.passwordHash !== hash(input.password)) throw new ConfigError('USAGE', 'Wrong e-mail or password.');
      const sessionToken = randomBytes(32).toString('base64url');
      const session: Session = { id: randomUUID(), userId: user.id, createdAt: now(), expiresAt: new Date(now().getTime() + 3_600_000), csrfToken: randomBytes(24).toString('base64url') };
      sessions.set(hash(sessionToken), session);
      return { sessionToken, session, user: plain(user) };
    },
    async signOut(token) {
      sessions.delete(hash(token));
    },
    async authenticateSession(token) {
      const session = sessions.get(hash(token));
      const user = session ? users.get(session.userId) : undefined;
      return session && user ? { principal: principalOf(user), session } : undefined;
    },
    async authenticateApiKey(secret) {
      const key = keys.get(hash(secret));
      if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now())) return undefined;
      return { kind: 'api-key', keyId: key.id, prefix: key.prefix, workspace: key.workspace, role: key.role };
    },
    async createApiKey(input) {
      const secret = `trb_${randomBytes(32).toString('base64url')}`;
      const key: ApiKey & { secretHash: string } = { id: randomUUID(), prefix: secret.slice(0, 12), name: input.name, workspace: input.workspace, role: input.role, createdAt: now(), ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}), secretHash: hash(secret) };
      keys.set(key.secretHash, key);
      const { secretHash: _, ...shown } = key;
      return { key: shown, secret };
    },
    async listApiKeys(workspace) {
      return [...keys.values()].filter((k) => k.workspace === workspace).map(({ secretHash: _, ...k }) => k);
    },
    async revokeApiKey(input) {
      const key = [...keys.values()].find((k) => k.id === input.id && k.workspace === input.workspace);
      if (!key) return false;
      key.revokedAt = now();
      return true;
    },
    async listUsers(workspace) {
      return [...users.values()].filter((u) => u.memberships.some((m) => m.workspace === workspace)).map(plain);
    },
    async setRole(input) {
      const user = users.get(input.userId);
      if (!user) return;
      user.memberships = user.memberships.filter((m) => m.workspace !== input.workspace);
      if (input.role) user.memberships.push({ workspace: input.workspace, role: input.role as WorkspaceRole });
    },
    async audit(event) {
      audit.unshift({ id: randomUUID(), at: event.at ?? now(), ...event });
    },
    async listAudit(filter) {
      const matching = audit.filter((e) => filter.workspace === undefined || e.workspace === filter.workspace);
      const start = filter.before ? matching.findIndex((e) => e.id === filter.before) + 1 : 0;
      return matching.slice(start, start + filter.limit);
    },
  };
}
