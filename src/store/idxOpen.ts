// IDX files the user opens in the page (or drops on it): images, and for image classification
// their labels, read with the same readers the command line uses (src/tasks/idx.ts) and checked
// when opened: the shape (square, a side 28, 14 or 7 divides), the labels' count against the
// images (loadIdxDataset) and every label inside the classes (checkImageLabels), so a wrong file
// is refused with its reason before any run is asked for.
import type { ImageSet } from '../tasks/idx.ts';
import { loadIdxDataset, loadIdxImages } from '../tasks/idx.ts';
import { checkImageLabels, classCount } from '../tasks/imageClassification.ts';
import { imageShapeCheck, type DatasetInfo } from './validate.ts';

export interface OpenedFile {
  name: string;
  bytes: Uint8Array;
}

export type IdxOpenResult =
  | { ok: true; name: string; set: ImageSet; info: DatasetInfo; resolutions: (28 | 14 | 7)[]; note: string }
  | { ok: false; error: string };

/**
 * Which file holds the labels: the one whose name says so, else (two files) the smaller one (a
 * labels file has a byte per image, an images file rows x cols); null for a single file.
 */
function pickFiles(files: OpenedFile[]): { images: OpenedFile; labels: OpenedFile | null } {
  const byName = files.find((f) => /label/i.test(f.name));
  if (files.length === 1) return { images: files[0]!, labels: byName && files[0] !== byName ? byName : null };
  const labels = byName ?? [...files].sort((a, b) => a.bytes.length - b.bytes.length)[0]!;
  return { images: files.find((f) => f !== labels)!, labels };
}

/**
 * Reads opened IDX files for a task: MNIST generation takes images alone (labels are kept when
 * given); image classification needs the labels file too, with one label per image, each in
 * 0..classes-1. Never throws: a file that cannot be used comes back as `error`, naming it.
 */
export async function openIdxFiles(files: OpenedFile[], task: 'mnist' | 'images', classes: number): Promise<IdxOpenResult> {
  if (files.length === 0) return { ok: false, error: 'no file was opened' };
  if (files.length > 2) return { ok: false, error: `open one images file and at most one labels file; got ${files.length} files` };
  const { images, labels } = pickFiles(files);
  const what = task === 'images' ? 'image classification' : 'MNIST generation';
  if (task === 'images' && !labels) {
    return { ok: false, error: `${images.name}: image classification needs the labels too: open the IDX images and labels files together` };
  }
  let set: ImageSet;
  try {
    set = labels ? await loadIdxDataset(images.bytes, labels.bytes) : await loadIdxImages(images.bytes);
  } catch (e) {
    return { ok: false, error: `${labels ? `${images.name} with ${labels.name}` : images.name}: ${(e as Error).message}` };
  }
  const shape = imageShapeCheck(set.count, set.rows, set.cols, what);
  if ('error' in shape) return { ok: false, error: `${images.name} cannot be used: ${shape.error}` };
  if (task === 'images') {
    try {
      checkImageLabels(set, classes);
    } catch (e) {
      return { ok: false, error: `${labels!.name}: ${(e as Error).message}; set Classes to cover them or open other labels` };
    }
  }
  const found = set.labels ? classCount(set) : null;
  const info: DatasetInfo = { count: set.count, rows: set.rows, cols: set.cols, classes: found };
  const labelText = labels ? ` with ${set.count} labels from ${labels.name} (classes 0..${found! - 1})` : '';
  return {
    ok: true,
    name: images.name,
    set,
    info,
    resolutions: shape.resolutions,
    note: `${images.name}: ${set.count} images of ${set.rows}x${set.cols}${labelText}; resolutions ${shape.resolutions.join(', ')}`,
  };
}
