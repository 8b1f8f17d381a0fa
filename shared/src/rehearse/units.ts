// Sizes and rates as operators write them in a fleet file (`2GB`, `500GiB`, `50MB/s`, or a bare
// number of bytes), turned into whole bytes. MB is 10^6 and MiB 2^20, as in `drover kafka
// --throttle`; units are case-sensitive because `Mb` means megabits elsewhere.

const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kKMGT]i?B|B)?$/;
const RATE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kKMGT]i?B|B)?\/s$/;

/** Bytes of `2GB`, `500GiB`, `1048576`; undefined when the text is not a size. */
export function parseBytes(text: string): number | undefined {
  return scaled(SIZE_PATTERN.exec(text.trim()));
}

/** Bytes per second of `50MB/s`, `24MiB/s`, `1048576/s`; undefined when the text is not a rate. */
export function parseBytesPerSec(text: string): number | undefined {
  return scaled(RATE_PATTERN.exec(text.trim()));
}

function scaled(match: RegExpExecArray | null): number | undefined {
  if (!match) return undefined;
  const scale = UNITS[match[2] ?? 'B'];
  if (scale === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * scale);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `1.5 GB`, `730 MB`, `12 B`: decimal units, three significant figures, for tables. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3)} ${units[unit]}`;
}

/** `3d 04:05:06`, `04:05:06`: a simulated duration for tables (whole seconds). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const days = Math.floor(total / 86_400);
  const rest = total % 86_400;
  const hh = String(Math.floor(rest / 3600)).padStart(2, '0');
  const mm = String(Math.floor((rest % 3600) / 60)).padStart(2, '0');
  const ss = String(rest % 60).padStart(2, '0');
  return `${days > 0 ? `${days}d ` : ''}${hh}:${mm}:${ss}`;
}
