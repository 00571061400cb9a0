// The images of a job for the gallery, each with the unit, worker and seed it came from when
// that can be known. A collector's output holds every unit's images in unit order, so an image
// of a node downstream of it is matched to its unit by counting each unit's collected images.
import type { ImageRef, JobDetail } from '../api/types';

export interface GalleryImage {
  key: string;
  image: ImageRef;
  nodeId: string;
  unitIndex: number | null;
  workerName: string | null;
  seed: number | null;
}

// The node of a tiled job's unit that returns its upscaled tile.
export const TILE_PREVIEW_NODE = 'tiles.preview';

const keyOf = (i: ImageRef) => `${i.type}/${i.subfolder}/${i.filename}`;

// The first DistributedSeed's seed: unit j used seed + j.
function baseSeed(job: JobDetail): number | null {
  for (const node of Object.values(job.prompt ?? {})) {
    if (node.class_type === 'DistributedSeed' && typeof node.inputs?.seed === 'number') {
      return node.inputs.seed as number;
    }
  }
  return null;
}

export function galleryImages(job: JobDetail): GalleryImage[] {
  const prompt = job.prompt ?? {};
  const units = job.units ?? [];
  const seed0 = baseSeed(job);
  const collectorIds = new Set(
    Object.entries(prompt)
      .filter(([, n]) => n.class_type === 'DistributedCollector')
      .map(([id]) => id),
  );
  // A tiled job's units return its tiles, which the master blends into the job's own outputs
  // (and deletes once the job is done): like collected images, shown only while it has none.
  const gathered = (nodeId: string) =>
    collectorIds.has(nodeId) || (job.mode === 'tiles' && nodeId === TILE_PREVIEW_NODE);
  const seedFor = (unitIndex: number | null) =>
    seed0 !== null && unitIndex !== null && job.mode === 'fan_out' ? seed0 + unitIndex : null;
  const workerFor = (unitIndex: number | null) =>
    unitIndex === null ? null : (units.find((u) => u.index === unitIndex)?.worker_name ?? null);

  // Which unit produced each image the units returned, and the order the collector gathers them.
  const byKey = new Map<string, number>();
  const collectedOrder: number[] = [];
  for (const unit of [...units].sort((a, b) => a.index - b.index)) {
    for (const out of unit.outputs ?? []) {
      byKey.set(keyOf(out), unit.index);
      if (collectorIds.has(out.node_id)) {
        collectedOrder.push(unit.index);
      }
    }
  }

  const out: GalleryImage[] = [];
  const seen = new Set<string>();
  const add = (image: ImageRef, nodeId: string, unitIndex: number | null) => {
    const key = keyOf(image);
    if (seen.has(key)) {
      return;
    }
    seen.add(key);
    out.push({ key, image, nodeId, unitIndex, workerName: workerFor(unitIndex), seed: seedFor(unitIndex) });
  };

  for (const [nodeId, output] of Object.entries(job.outputs ?? {})) {
    const images = output.images ?? [];
    const inUnitOrder = collectorIds.size > 0 && images.length === collectedOrder.length;
    images.forEach((image, k) => {
      const direct = byKey.get(keyOf(image));
      add(image, nodeId, direct ?? (inUnitOrder ? collectedOrder[k] : null));
    });
  }
  // Images only the units have: all of them while the job has no outputs of its own (still
  // running, or it failed before the master assembled them); else those no collector gathered.
  const finalCount = out.length;
  for (const unit of units) {
    for (const o of unit.outputs ?? []) {
      if (finalCount === 0 || !gathered(o.node_id)) {
        add({ filename: o.filename, subfolder: o.subfolder, type: o.type }, o.node_id, unit.index);
      }
    }
  }
  return out;
}
