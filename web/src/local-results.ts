/**
 * Results painted in this browser, kept in this browser (IndexedDB): the in-browser mode promises
 * that nothing leaves the computer, so its results join the gallery without going to the server.
 */
export interface LocalResult {
  id: string;
  createdAt: string;
  style: string;
  photoName: string;
  width: number;
  height: number;
  ms: number;
  backend: string;
  blob: Blob;
}

const DB = 'nst';
const STORE = 'browser-results';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

export const saveLocalResult = (r: LocalResult) => run('readwrite', (s) => s.put(r)).then(() => undefined);
export const deleteLocalResult = (id: string) => run('readwrite', (s) => s.delete(id)).then(() => undefined);

/** Newest first; an empty list where the browser keeps no storage (private windows). */
export async function listLocalResults(): Promise<LocalResult[]> {
  try {
    const all = await run<LocalResult[]>('readonly', (s) => s.getAll() as IDBRequest<LocalResult[]>);
    return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  } catch {
    return [];
  }
}
