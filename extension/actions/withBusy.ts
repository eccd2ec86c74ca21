import type { StatusModel } from '../model/statusModel';

/** Runs an action with its row marked busy ("Locking…" and a spinning icon) until it ends either way. */
export async function withBusy<T>(model: StatusModel, key: string, label: string, action: () => PromiseLike<T>): Promise<T> {
  model.setBusy(key, label);
  try {
    return await action();
  } finally {
    model.clearBusy(key);
  }
}
