/**
 * Go's net/url validation, errors only: the texts url.Parse and url.ParseRequestURI give for a bad URL,
 * and url.Redacted()'s masking.
 */
import { isIPv6 } from 'node:net';
import { goQuote } from './strconv';

const HOST_OK = new Set("!$&'()*+,;=:[]<>\"-_.~");

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function unhex(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}

/** Bytes allowed unescaped in a host (Go's shouldEscape(c, encodeHost) == false). */
function hostByteOk(c: number): boolean {
  return isAlnum(c) || HOST_OK.has(String.fromCharCode(c));
}

type UnescapeMode = 'host' | 'zone' | 'other';

/** Go's unescape() error checks, over UTF-8 bytes; returns the error text or undefined. */
function unescapeError(s: string, mode: UnescapeMode): string | undefined {
  const b = Buffer.from(s, 'utf8');
  for (let i = 0; i < b.length; ) {
    const c = b[i] ?? 0;
    if (c === 0x25) {
      if (i + 2 >= b.length || !isHex(b[i + 1] ?? 0) || !isHex(b[i + 2] ?? 0)) {
        return `invalid URL escape ${goQuote(b.subarray(i, i + 3).toString('latin1'))}`;
      }
      const three = b.subarray(i, i + 3).toString('latin1');
      if (mode === 'host' && unhex(b[i + 1] ?? 0) < 8 && three !== '%25') return `invalid URL escape ${goQuote(three)}`;
      if (mode === 'zone') {
        const v = (unhex(b[i + 1] ?? 0) << 4) | unhex(b[i + 2] ?? 0);
        if (three !== '%25' && v !== 0x20 && !hostByteOk(v)) return `invalid URL escape ${goQuote(three)}`;
      }
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c < 0x80 && !hostByteOk(c)) {
      return `invalid character ${goQuote(String.fromCharCode(c))} in host name`;
    }
    i++;
  }
  return undefined;
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  return /^[0-9]*$/.test(port.slice(1));
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseHostError(scheme: string, host: string): string | undefined {
  const open = host.lastIndexOf('[');
  if (open > 0) return 'invalid IP-literal';
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0) return "missing ']' in host";
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
    const portErr = unescapeError(colonPort, 'host');
    if (portErr !== undefined) return portErr;
    const hostname = host.slice(1, close);
    const zone = hostname.indexOf('%25');
    let unescaped: string;
    if (zone >= 0) {
      const e1 = unescapeError(hostname.slice(0, zone), 'host');
      if (e1 !== undefined) return e1;
      const e2 = unescapeError(hostname.slice(zone), 'zone');
      if (e2 !== undefined) return e2;
      unescaped = decodeURIComponentSafe(hostname.slice(0, zone));
    } else {
      const e = unescapeError(hostname, 'host');
      if (e !== undefined) return e;
      unescaped = decodeURIComponentSafe(hostname);
    }
    // Go: netip.ParseAddr must accept it as IPv6 (an IPv4 literal in brackets is rejected).
    if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(unescaped)) return 'invalid IP-literal';
    if (!isIPv6(unescaped)) return `invalid host: ParseAddr(${goQuote(unescaped)}): unable to parse IP`;
    return undefined;
  }
  let i = host.indexOf(':');
  if (i !== -1) {
    const last = host.lastIndexOf(':');
    // Go 1.26: several colons are only rejected for http/https (a comma-separated host list with
    // ports is fine for postgres:// and others).
    if (last !== i && scheme !== 'http' && scheme !== 'https') i = last;
    const colonPort = host.slice(i);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
  }
  return unescapeError(host, 'host');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A URL (parsable or not) with its secrets masked, for error texts and `input`: the userinfo
 * password becomes `xxxxx` as Go's url.Redacted() does, and so do the values of query parameters
 * whose names look like credentials (Postgres accepts `?password=`).
 */
export function redactUrl(raw: string): string {
  // Greedy up to the authority's end, so a password holding '@' is masked whole (Go splits at the last '@').
  return raw
    .replace(/(\/\/[^/?#:@]*:)[^/?#]*@/g, '$1xxxxx@')
    .replace(/([?&;][^=&#]*(?:pass|secret|token|key|auth)[^=&#]*=)[^&#]*/gi, '$1xxxxx');
}

/**
 * The error text Go's url.Parse (viaRequest=false) or url.ParseRequestURI (true) gives, or
 * undefined. `show` transforms the URL where the text quotes it (redaction).
 */
export function goURLParseError(raw: string, viaRequest: boolean, show: (url: string) => string = (u) => u): string | undefined {
  let input = raw;
  let frag: string | undefined;
  if (!viaRequest) {
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      input = raw.slice(0, hash);
      frag = raw.slice(hash + 1);
    }
  }
  const err = goURLParseInner(input, viaRequest);
  if (err !== undefined) return `parse ${goQuote(show(input))}: ${err}`;
  if (frag !== undefined && frag !== '') {
    const fe = unescapeError(frag, 'other');
    if (fe !== undefined) return `parse ${goQuote(show(raw))}: ${fe}`;
  }
  return undefined;
}

function goURLParseInner(raw: string, viaRequest: boolean): string | undefined {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'net/url: invalid control character in URL';
  }
  if (raw === '' && viaRequest) return 'empty url';
  if (raw === '*') return undefined;
  // scheme
  let scheme = '';
  let rest = raw;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return 'missing protocol scheme';
      scheme = raw.slice(0, i).toLowerCase();
      rest = raw.slice(i + 1);
    }
    break;
  }
  const q = rest.indexOf('?');
  if (rest.endsWith('?') && q === rest.length - 1) rest = rest.slice(0, -1);
  else if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) {
    if (scheme !== '') return undefined; // opaque
    if (viaRequest) return 'invalid URI for request';
    const slash = rest.indexOf('/');
    const segment = slash >= 0 ? rest.slice(0, slash) : rest;
    if (segment.includes(':')) return 'first path segment in URL cannot contain colon';
  }
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    const hostErr = parseHostError(scheme, at < 0 ? authority : authority.slice(at + 1));
    if (hostErr !== undefined) return hostErr;
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) return 'net/url: invalid userinfo';
      const colon = userinfo.indexOf(':');
      const parts = colon < 0 ? [userinfo] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
      for (const p of parts) {
        const e = unescapeError(p, 'other');
        if (e !== undefined) return e;
      }
    }
  }
  return unescapeError(rest, 'other');
}
