import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { realpath } from 'node:fs/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type * as Undici from 'undici';
import { ConfigError, DEFAULT_DESTINATION_LIMITS, type DestinationAddedBy, type DestinationLimits } from '@tributary/core';

const requireHere = createRequire(import.meta.url);

/**
 * undici, loaded at the first delivery rather than at import: the CLI imports the built-in
 * destinations to list them, and `tributary --help` should not pay for an HTTP client it never uses.
 */
export function undici(): typeof Undici {
  return requireHere('undici') as typeof Undici;
}

// A workspace administrator adding a destination over the HTTP API is not the server's operator:
// without these checks they could make the server write files anywhere it may write, or POST to
// addresses only the server can reach (cloud metadata, localhost services, the private network).
// The operator widens the limits in their own configuration; nothing in a request can.

const ALLOW_VARIABLE = 'TRIBUTARY_WEBHOOK_ALLOW_HOSTS';
const ROOTS_VARIABLE = 'TRIBUTARY_FILE_DESTINATION_ROOTS';

/** Why an address is not public; only the first two may be allowed by a host name. */
type AddressKind = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved';

// Order matters: the first range an address falls in names it (:: and ::1 before ::/96).
const RANGES: readonly [string, number, 'ipv4' | 'ipv6', AddressKind][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  // Carrier-grade NAT and the IETF's own block are not the public internet either.
  ['100.64.0.0', 10, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['224.0.0.0', 4, 'ipv4', 'reserved'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'reserved'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fc00::', 7, 'ipv6', 'private'],
  ['fec0::', 10, 'ipv6', 'private'],
  ['64:ff9b::', 96, 'ipv6', 'reserved'],
  ['ff00::', 8, 'ipv6', 'reserved'],
];

const KIND_LISTS: readonly { kind: AddressKind; list: BlockList }[] = RANGES.map(([network, prefix, type, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { kind, list };
});

/** Kinds a listed host name may resolve to; the others only an explicit address or range unlocks. */
const NAME_ALLOWABLE: ReadonlySet<AddressKind> = new Set(['loopback', 'private']);

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * Why an address is not one a webhook may reach by default, or undefined for a public address.
 * IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) count as the IPv4 address they carry.
 */
export function nonPublicKindOf(address: string): AddressKind | undefined {
  if (isIP(address) === 0) return undefined;
  return KIND_LISTS.find(({ list }) => list.check(address, familyOf(address)))?.kind;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i;

/** Whether an entry of the allow-list is a host name, an IP address or a CIDR range. */
export function isWebhookAllowEntry(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(unbracket(entry)) !== 0 || HOST_NAME.test(entry);
  const address = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  const version = isIP(address);
  return version !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

interface AllowList {
  names: ReadonlySet<string>;
  addresses: BlockList;
}

function allowListOf(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const addresses = new BlockList();
  for (const raw of entries) {
    const entry = unbracket(raw.trim());
    const slash = entry.indexOf('/');
    if (slash >= 0 && isIP(entry.slice(0, slash)) !== 0) {
      const network = entry.slice(0, slash);
      addresses.addSubnet(network, Number(entry.slice(slash + 1)), familyOf(network));
    } else if (isIP(entry) !== 0) {
      addresses.addAddress(entry, familyOf(entry));
    } else if (entry) {
      names.add(entry.replace(/\.$/, ''));
    }
  }
  return { names, addresses };
}

/** The URL without credentials, query or fragment: what a message may show. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** A webhook's receiver as checked: the addresses its request may connect to, and nothing else. */
export interface CheckedWebhookTarget {
  host: string;
  addresses: readonly LookupAddress[];
}

/**
 * Resolves a webhook URL's host and checks every address against the operator's limits: loopback,
 * private, link-local, unspecified and reserved addresses are refused unless allowed, and plain http
 * is refused unless the receiver is on the allow-list. Throws DESTINATION_URL_NOT_ALLOWED.
 */
export async function checkWebhookUrl(url: string, limits: DestinationLimits = DEFAULT_DESTINATION_LIMITS): Promise<CheckedWebhookTarget> {
  const parsed = new URL(url);
  const host = unbracket(parsed.hostname).replace(/\.$/, '');
  const where = shownUrl(url);
  const allow = allowListOf(limits.webhookAllowHosts);
  let addresses: LookupAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    addresses = await lookup(host, { all: true, verbatim: true }).catch(() => []);
    if (addresses.length === 0) {
      throw new ConfigError('DESTINATION_URL_NOT_ALLOWED', `The webhook host ${host} of ${where} does not resolve, so it cannot be checked against the server's limits.`, {
        hint: 'Check the URL; the name must resolve on the server.',
      });
    }
  }
  // Every answer is checked, not just the first: the connection may use any of them.
  for (const { address } of addresses) {
    const kind = nonPublicKindOf(address);
    if (!kind || allow.addresses.check(address, familyOf(address)) || (allow.names.has(host) && NAME_ALLOWABLE.has(kind))) continue;
    const named = host === address ? address : `${host} (${address})`;
    throw new ConfigError('DESTINATION_URL_NOT_ALLOWED', `The webhook ${where} points at ${named}, a ${kind} address, which this server does not send to unless its operator allows it.`, {
      hint: `The server's operator must add ${NAME_ALLOWABLE.has(kind) && host !== address ? `${host} or ${address}` : address} to ${ALLOW_VARIABLE} and restart; otherwise use a receiver on a public address.`,
    });
  }
  const listed = allow.names.has(host) || addresses.every(({ address }) => allow.addresses.check(address, familyOf(address)));
  if (parsed.protocol === 'http:' && !listed) {
    throw new ConfigError('DESTINATION_URL_NOT_ALLOWED', `The webhook ${where} uses plain http, so its batches would travel in clear.`, {
      hint: `Use https://; for a receiver on a trusted network the server's operator must add ${host} to ${ALLOW_VARIABLE}.`,
    });
  }
  return { host, addresses };
}

/**
 * An undici dispatcher whose connections go only to the addresses already checked, so that a DNS
 * answer changing between the check and the connection (DNS rebinding) cannot redirect the request.
 * The caller destroys it after the request.
 */
export function pinnedDispatcher(target: CheckedWebhookTarget): Undici.Agent {
  const pinned: LookupFunction = (hostname: string, options: LookupOptions, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? target.addresses.filter((a) => a.family === options.family) : [...target.addresses];
    if (unbracket(hostname).replace(/\.$/, '') !== target.host || wanted.length === 0) {
      callback(Object.assign(new Error(`${hostname} is not the checked webhook host`), { code: 'ENOTFOUND' }), '');
      return;
    }
    if (options.all) callback(null, wanted);
    else callback(null, wanted[0]!.address, wanted[0]!.family);
  };
  return new (undici().Agent)({ connect: { lookup: pinned } });
}

/** The real path a directory would have: the existing part with its links and `..` resolved, then the rest. */
async function realTarget(directory: string): Promise<string | undefined> {
  const missing: string[] = [];
  let current = directory;
  for (;;) {
    try {
      const real = await realpath(current);
      // `..` in a part still to be created would be resolved by mkdir against paths not checked here.
      return missing.some((part) => part === '..' || part === '.') ? undefined : join(real, ...missing);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) return undefined;
      missing.unshift(basename(current));
      current = dirname(current);
    }
  }
}

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

/**
 * The directory a file destination writes to, checked against the operator's roots: its real path
 * (links and `..` resolved) must lie under the real path of one of them. Without roots, the operator's
 * own destinations may write anywhere and a workspace administrator's may not be added at all.
 * Returns the path to write to (the real one when roots are set). Throws DESTINATION_DIRECTORY_NOT_ALLOWED.
 */
export async function checkFileDirectory(directory: string, limits: DestinationLimits = DEFAULT_DESTINATION_LIMITS, addedBy: DestinationAddedBy = 'operator'): Promise<string> {
  if (limits.fileRoots.length === 0) {
    if (addedBy === 'operator') return directory;
    throw new ConfigError('DESTINATION_DIRECTORY_NOT_ALLOWED', "File destinations cannot be added over the API: this server's operator has named no directory they may write under.", {
      hint: `The server's operator must set ${ROOTS_VARIABLE} to the directories file destinations may use and restart the server, or add this destination with \`tributary destinations add file\` on the server.`,
    });
  }
  const real = await realTarget(directory);
  if (real) {
    for (const root of limits.fileRoots) {
      const realRoot = await realpath(root).catch(() => undefined);
      if (realRoot && inside(realRoot, real)) return real;
    }
  }
  throw new ConfigError('DESTINATION_DIRECTORY_NOT_ALLOWED', `The directory ${directory} is not under a directory this server's operator lets file destinations write to${real && real !== directory ? ` (it resolves to ${real})` : ''}.`, {
    hint: `Choose a directory under ${limits.fileRoots.join(', ')}, or the server's operator must add one to ${ROOTS_VARIABLE} and restart.`,
  });
}
