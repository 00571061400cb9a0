// The live device line of a worker card: GPU (or CPU) name and memory in use, from the last
// /system_stats the master read.
import type { DeviceInfo } from '../api/types';
import { formatBytes } from './format';

export function deviceLine(devices: DeviceInfo[] | undefined): string {
  if (!devices || devices.length === 0) {
    return '';
  }
  return devices
    .map((d) => {
      const name = d.name || d.type || 'device';
      if (d.vram_total && d.vram_free !== undefined) {
        return `${name} · ${formatBytes(d.vram_total - d.vram_free)} / ${formatBytes(d.vram_total)}`;
      }
      return name;
    })
    .join('; ');
}
