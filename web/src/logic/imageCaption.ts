// The line under an output image: which unit, worker and seed it came from, as far as known.
import type { GalleryImage } from './galleryImages';

export function imageCaption(image: GalleryImage): string {
  const parts: string[] = [];
  if (image.unitIndex !== null) {
    parts.push(`unit ${image.unitIndex + 1}`);
  }
  if (image.workerName) {
    parts.push(image.workerName);
  }
  if (image.seed !== null) {
    parts.push(`seed ${image.seed}`);
  }
  return parts.length ? parts.join(' · ') : `node ${image.nodeId}`;
}
