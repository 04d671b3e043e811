/** Whether `host` matches an allow-list entry: an exact name or `*.suffix` (a subdomain, never the bare suffix). */
export function isHostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowedHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? name.endsWith(p.slice(1)) && name.length > p.length - 1 : name === p;
  });
}
