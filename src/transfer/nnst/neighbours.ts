/**
 * The neural-neighbour search: for every query hypercolumn, the candidate (painting) hypercolumn
 * nearest under centred cosine similarity (each set minus its own mean, then unit length). The
 * similarity matrix is built a block of query rows at a time, so memory stays bounded whatever
 * the image sizes: at most `blockBytes` of similarities exist at once.
 */
import { cat, noGrad, Tensor, tidy } from '../../engine';

/** Default memory of one block of the similarity matrix (float32). */
export const NEIGHBOUR_BLOCK_BYTES = 32 * 1024 * 1024;

/** Rows centred by their mean row, then scaled to unit length. */
function centredUnitRows(rows: Tensor): Tensor {
  const centred = rows.sub(rows.mean([0], true));
  return centred.div(centred.square().sum([1], true).add(1e-8).sqrt());
}

/**
 * Index (int64, N) of the nearest row of `candidates` (M × C) for each row of `queries` (N × C),
 * under centred cosine similarity. Not differentiated. The result joins the caller's scope.
 */
export function nearestNeighbourIndices(queries: Tensor, candidates: Tensor, blockBytes = NEIGHBOUR_BLOCK_BYTES): Tensor {
  return noGrad(() => tidy(() => {
    const [n] = queries.shape;
    const [m] = candidates.shape;
    // Each in its own scope, so only the normalised copies outlive it.
    const q = tidy(() => centredUnitRows(queries));
    const kt = tidy(() => centredUnitRows(candidates).transpose(0, 1).contiguous());
    const rowsPerBlock = Math.max(1, Math.floor(blockBytes / (4 * m)));
    const parts: Tensor[] = [];
    for (let start = 0; start < n; start += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, n - start);
      parts.push(tidy(() => q.narrow(0, start, rows).matmul(kt).argmaxAlong(1)));
    }
    return parts.length === 1 ? parts[0] : cat(parts, 0);
  }));
}

/** Each query row replaced by its nearest candidate row (N × C). */
export function neuralNeighbours(queries: Tensor, candidates: Tensor, blockBytes = NEIGHBOUR_BLOCK_BYTES): Tensor {
  return noGrad(() => tidy(() => candidates.indexSelectBy(0, nearestNeighbourIndices(queries, candidates, blockBytes))));
}
